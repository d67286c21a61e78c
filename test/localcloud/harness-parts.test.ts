/**
 * The local cloud's pure parts, without moto: the simulated clock, the definition rewrite, the intrinsic resolver.
 */
import { SimulatedClock } from '../../localcloud/clock';
import { creationOrder, physicalName } from '../../localcloud/controller';
import { localizeDefinition, readPath, waitSeconds } from '../../localcloud/definition';
import { IntrinsicResolver, type PhysicalResource } from '../../localcloud/intrinsics';
import type { CfnTemplate } from '../../localcloud/template';

const start = new Date('2026-01-05T09:00:00.000Z');
const at = (clock: SimulatedClock) => (clock.now().getTime() - start.getTime()) / 1000;

describe('the simulated clock', () => {
  it('advances in ticks and runs the tickers at each one, in order', async () => {
    const clock = new SimulatedClock({ start, tickSeconds: 60 });
    const seen: string[] = [];
    clock.onTick(() => void seen.push(`late@${at(clock)}`), { order: 10 });
    clock.onTick(async () => void seen.push(`early@${at(clock)}`));

    await clock.advance(150);

    expect(at(clock)).toBe(150);
    expect(seen).toEqual(['early@60', 'late@60', 'early@120', 'late@120']);
  });

  it('moves time for a sleeping actor only once no actor is working, and wakes each at its own time', async () => {
    const clock = new SimulatedClock({ start });
    const long = clock.join('long');
    const short = clock.join('short');
    const woke: string[] = [];

    const a = long.sleep(300).then(() => {
      woke.push(`long@${at(clock)}`);
      long.leave();
    });
    await new Promise((r) => setTimeout(r, 20));
    expect(at(clock)).toBe(0); // `short` is still working: time holds
    // A woken actor holds time until it sleeps again or leaves.
    const b = short.sleep(60).then(() => {
      woke.push(`short@${at(clock)}`);
      short.leave();
    });
    await Promise.all([a, b]);

    expect(woke).toEqual(['short@60', 'long@300']);
  });

  it('lets a ticker interrupt a sleep through its abort signal', async () => {
    const clock = new SimulatedClock({ start });
    const actor = clock.join('run');
    const stop = new AbortController();
    clock.onTick(() => {
      if (at(clock) >= 120) stop.abort();
    });

    const outcome = await actor.sleep(600, stop.signal);
    actor.leave();

    expect(outcome).toBe('aborted');
    expect(at(clock)).toBe(120);
  });

  it('fires timers at their exact time, between ticks', async () => {
    const clock = new SimulatedClock({ start });
    const fired: number[] = [];
    clock.schedule(new Date(start.getTime() + 90_000), () => void fired.push(at(clock)));

    await clock.advance(100);

    expect(fired).toEqual([90]);
  });

  it('does not move time for an actor waiting on something outside', async () => {
    const clock = new SimulatedClock({ start });
    const actor = clock.join('approval');
    let decide!: (v: string) => void;
    const waiting = actor.suspend(new Promise<string>((r) => (decide = r)));

    await new Promise((r) => setTimeout(r, 20));
    expect(at(clock)).toBe(0);
    decide('approved');

    await expect(waiting).resolves.toBe('approved');
    actor.leave();
  });
});

describe('the definition as the local runner runs it', () => {
  const definition = {
    StartAt: 'Validate',
    TimeoutSeconds: 7200,
    States: {
      Validate: {
        Type: 'Task',
        Resource: 'arn:aws:states:::lambda:invoke',
        Parameters: {
          FunctionName: 'f',
          Payload: { 'startTime.$': '$$.Execution.StartTime', 'state.$': '$$.State.Name' },
        },
        ResultSelector: { 'deployment.$': '$.Payload' },
        ResultPath: '$',
        Retry: [{ ErrorEquals: ['TransientAwsError'] }],
        Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$', Next: 'Bake' }],
        Next: 'Approve',
      },
      Approve: {
        Type: 'Task',
        Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
        Parameters: { FunctionName: 'f', Payload: { 'token.$': '$$.Task.Token' } },
        TimeoutSeconds: 3600,
        Next: 'Bake',
      },
      Bake: {
        Type: 'Wait',
        SecondsPath: '$.deployment.wait.seconds',
        OutputPath: '$.deployment',
        Next: 'Done',
      },
      Done: { Type: 'Succeed' },
    },
  };

  it('moves timeouts, waits and tokens to the harness and fixes what the runner reads differently', () => {
    const local = localizeDefinition(JSON.stringify(definition));
    const states = local.definition.States as unknown as Record<string, Record<string, unknown>>;

    expect(local.timeoutSeconds).toBe(7200);
    expect(local.definition).not.toHaveProperty('TimeoutSeconds');
    expect(local.retryStates).toEqual(['Validate']);
    expect(states.Validate!.Parameters).toEqual({
      FunctionName: 'f',
      Payload: { 'startTime.$': '$$.Execution.LocalStartTime', state: 'Validate' },
    });
    expect(states.Validate).not.toHaveProperty('ResultPath');
    expect(states.Validate!.Catch).toEqual([{ ErrorEquals: ['States.ALL'], Next: 'Bake' }]);
    expect(states.Approve).toMatchObject({
      Resource: 'arn:aws:states:::lambda:invoke',
      Parameters: { Payload: { token: '<<localcloud:task-token>>' } },
    });
    expect(local.bindings.get('Approve')).toEqual({ kind: 'lambda-invoke-token', timeoutSeconds: 3600 });
    expect(states.Bake).toMatchObject({ Type: 'Task', OutputPath: '$.deployment', Next: 'Done' });
    expect(local.bindings.get('Bake')).toEqual({
      kind: 'wait',
      wait: { SecondsPath: '$.deployment.wait.seconds' },
    });
  });

  it('refuses Task resources it cannot run, naming them', () => {
    const sdk = {
      StartAt: 'Put',
      States: { Put: { Type: 'Task', Resource: 'arn:aws:states:::dynamodb:putItem', End: true } },
    };
    expect(() => localizeDefinition(JSON.stringify(sdk))).toThrow('Put (arn:aws:states:::dynamodb:putItem)');
  });

  it.each([
    [{ Seconds: 30 }, {}, 30],
    [{ SecondsPath: '$.wait.seconds' }, { wait: { seconds: 45 } }, 45],
    [{ SecondsPath: '$.steps[1]' }, { steps: [5, 15] }, 15],
    [{ Timestamp: '2026-01-05T09:10:00Z' }, {}, 600],
    [{ TimestampPath: '$.at' }, { at: '2026-01-05T08:00:00Z' }, 0],
  ])('waits %j on %j for %i simulated seconds', (wait, input, expected) => {
    expect(waitSeconds(wait, input, start)).toBe(expected);
  });

  it('reads simple paths', () => {
    expect(readPath({ a: { 'b-c': [1, { d: 2 }] } }, "$.a['b-c'][1].d")).toBe(2);
    expect(readPath({ a: 1 }, '$.missing.deeper')).toBeUndefined();
  });
});

describe('the intrinsic resolver', () => {
  const template: CfnTemplate = {
    Resources: {
      Table: { Type: 'AWS::DynamoDB::GlobalTable' },
      Fn: {
        Type: 'AWS::Lambda::Function',
        Properties: { Environment: { Variables: { TABLE_NAME: { Ref: 'Table' } } } },
      },
      Machine: {
        Type: 'AWS::StepFunctions::StateMachine',
        Properties: { DefinitionSubstitutions: { FnArn: { 'Fn::GetAtt': ['Fn', 'Arn'] } } },
        DependsOn: 'Table',
      },
    },
    Parameters: { Stage: { Type: 'String', Default: 'staging' } },
  };
  const physical = new Map<string, PhysicalResource>([
    [
      'Table',
      {
        logicalId: 'Table',
        type: 'AWS::DynamoDB::GlobalTable',
        ref: 'deployments',
        attributes: { Arn: 'arn:table' },
      },
    ],
    [
      'Fn',
      {
        logicalId: 'Fn',
        type: 'AWS::Lambda::Function',
        ref: 'fn',
        attributes: { Arn: 'arn:aws:lambda:eu-west-1:1:function:fn' },
      },
    ],
  ]);
  const resolver = new IntrinsicResolver(
    template,
    { region: 'eu-west-1', accountId: '222222222222', stackName: 'S', stackId: 'id' },
    physical,
  );

  it.each([
    [{ Ref: 'Table' }, 'deployments'],
    [{ 'Fn::GetAtt': ['Fn', 'Arn'] }, 'arn:aws:lambda:eu-west-1:1:function:fn'],
    [{ 'Fn::GetAtt': 'Table.Arn' }, 'arn:table'],
    [{ 'Fn::Join': ['-', ['a', { Ref: 'AWS::Region' }, { Ref: 'Stage' }]] }, 'a-eu-west-1-staging'],
    [
      { 'Fn::Sub': 'arn:${AWS::Partition}:s3:::${Table}/${Fn.Arn}/${!Literal}' },
      'arn:aws:s3:::deployments/arn:aws:lambda:eu-west-1:1:function:fn/${Literal}',
    ],
    [{ 'Fn::Sub': ['${X}-${AWS::AccountId}', { X: { Ref: 'Table' } }] }, 'deployments-222222222222'],
    [{ 'Fn::Select': [1, { 'Fn::Split': [',', 'a,b,c'] }] }, 'b'],
    [{ 'Fn::Select': [0, { 'Fn::GetAZs': '' }] }, 'eu-west-1a'],
    [{ a: { Ref: 'AWS::NoValue' }, b: 1 }, { b: 1 }],
  ])('resolves %j', (value, expected) => {
    expect(resolver.resolve(value)).toEqual(expected);
  });

  it('names what it cannot resolve', () => {
    expect(() => resolver.resolve({ Ref: 'Machine' })).toThrow('Ref Machine: not provisioned (yet)');
    expect(() => resolver.resolve({ 'Fn::ImportValue': 'x' })).toThrow('Fn::ImportValue is not supported');
  });

  it('orders creation after every reference and DependsOn', () => {
    expect(creationOrder(template)).toEqual(['Table', 'Fn', 'Machine']);
  });

  it('gives CloudFormation-style physical names within the limit, the same each time', () => {
    const name = physicalName('EnvironmentController-staging', 'TriggersAlarmRule732E0950', 64);
    expect(name).toHaveLength(64);
    expect(name).toMatch(/^EnvironmentController-staging-TriggersAlarmRule732E-[0-9A-F]{12}$/);
    expect(physicalName('EnvironmentController-staging', 'TriggersAlarmRule732E0950', 64)).toBe(name);
  });
});
