/**
 * The runner: test-only definitions (written here, not in statemachines/) run in aws-local-stepfunctions with each
 * Task bound to a handler, against moto, in simulated time; events delivered through moto's rule matching.
 */
import {
  DescribeExecutionCommand,
  SendTaskFailureCommand,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import type { Deps } from '../../lambdas/runtime/deps';
import type { DeliveredEvent } from '../../localcloud/events';
import type { HandlerFactory } from '../../localcloud/handlers';
import type { RunResult } from '../../localcloud/runner';
import { withLocalCloud } from '../../localcloud/testing';

class FlakyError extends Error {
  override readonly name = 'FlakyError';
}
class BoomError extends Error {
  override readonly name = 'BoomError';
}

const received: { handler: string; event: DeliveredEvent }[] = [];
const approvals: { token: string; execution: string }[] = [];
const flakyCalls = new Map<string, number>();

const handlers: Record<string, HandlerFactory> = {
  echo: (deps: Deps) => async (event: Record<string, unknown>) => ({
    ...event,
    at: deps.clock.now().toISOString(),
  }),
  bake: () => async (event: { seconds: number }) => ({ wait: { seconds: event.seconds } }),
  flaky: () => async (event: { key: string }) => {
    const calls = (flakyCalls.get(event.key) ?? 0) + 1;
    flakyCalls.set(event.key, calls);
    if (calls <= 2) throw new FlakyError(`attempt ${calls} failed`);
    return { calls };
  },
  boom: () => async () => {
    throw new BoomError('the candidate never became steady');
  },
  approve: () => async (event: { token: string; execution: string }) => {
    approvals.push(event);
    return { requested: true };
  },
  'stop-self': (deps: Deps) => async (event: { executionArn: string }) => {
    await deps.sfn.send(new StopExecutionCommand({ executionArn: event.executionArn, cause: 'rolled back' }));
    return { stopped: true };
  },
  'start-bake': (deps: Deps) => async (event: { stateMachineArn: string }) => {
    const out = await deps.sfn.send(
      new StartExecutionCommand({
        stateMachineArn: event.stateMachineArn,
        input: JSON.stringify({ seconds: 60 }),
      }),
    );
    return { executionArn: out.executionArn };
  },
  'collect-alarm': () => async (event: DeliveredEvent) =>
    void received.push({ handler: 'collect-alarm', event }),
  'collect-other-alarm': () => async (event: DeliveredEvent) =>
    void received.push({ handler: 'collect-other-alarm', event }),
  'collect-status': () => async (event: DeliveredEvent) =>
    void received.push({ handler: 'collect-status', event }),
};

const invoke = (fn: string, payload: unknown, extra: Record<string, unknown> = {}) => ({
  Type: 'Task',
  Resource: 'arn:aws:states:::lambda:invoke',
  Parameters: {
    FunctionName: `\${${fn}FunctionArn}`,
    ...(typeof payload === 'string' ? { 'Payload.$': payload } : { Payload: payload }),
  },
  ...extra,
});

const definitions = {
  bake: {
    StartAt: 'Prepare',
    States: {
      Prepare: invoke(
        'Bake',
        { 'seconds.$': '$.seconds' },
        { ResultSelector: { 'wait.$': '$.Payload.wait' }, ResultPath: '$.step', Next: 'Bake' },
      ),
      Bake: { Type: 'Wait', SecondsPath: '$.step.wait.seconds', Next: 'Echo' },
      Echo: invoke('Echo', '$', { OutputPath: '$.Payload', End: true }),
    },
  },
  retry: {
    StartAt: 'Flaky',
    States: {
      Flaky: invoke(
        'Flaky',
        { 'key.$': '$$.Execution.Name' },
        {
          Retry: [{ ErrorEquals: ['FlakyError'], IntervalSeconds: 30, MaxAttempts: 3, BackoffRate: 2 }],
          ResultPath: '$.flaky',
          Next: 'Boom',
        },
      ),
      Boom: invoke(
        'Boom',
        {},
        { Catch: [{ ErrorEquals: ['BoomError'], ResultPath: '$.failure', Next: 'Recovered' }], Next: 'Done' },
      ),
      Recovered: { Type: 'Pass', Result: 'recovered', ResultPath: '$.outcome', End: true },
      Done: { Type: 'Succeed' },
    },
  },
  fail: { StartAt: 'Boom', States: { Boom: invoke('Boom', {}, { End: true }) } },
  context: {
    StartAt: 'Soak',
    States: {
      Soak: { Type: 'Wait', Seconds: 120, Next: 'Echo' },
      Echo: invoke(
        'Echo',
        {
          'start.$': '$$.Execution.StartTime',
          'name.$': '$$.Execution.Name',
          'execution.$': '$$.Execution.Id',
          'machine.$': '$$.StateMachine.Name',
          'entered.$': '$$.State.EnteredTime',
          'state.$': '$$.State.Name',
        },
        { ResultSelector: { 'echo.$': '$.Payload' }, ResultPath: '$', End: true },
      ),
    },
  },
  approval: {
    StartAt: 'Approve',
    States: {
      Approve: {
        Type: 'Task',
        Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
        Parameters: {
          FunctionName: '${ApproveFunctionArn}',
          Payload: { 'token.$': '$$.Task.Token', 'execution.$': '$$.Execution.Id' },
        },
        TimeoutSeconds: 3600,
        ResultPath: '$.decision',
        Catch: [
          { ErrorEquals: ['Rejected'], ResultPath: '$.failure', Next: 'Rejected' },
          { ErrorEquals: ['States.Timeout'], ResultPath: '$.failure', Next: 'TimedOut' },
        ],
        Next: 'Approved',
      },
      Approved: { Type: 'Pass', Result: 'approved', ResultPath: '$.outcome', End: true },
      Rejected: { Type: 'Pass', Result: 'rejected', ResultPath: '$.outcome', End: true },
      TimedOut: { Type: 'Pass', Result: 'timed-out', ResultPath: '$.outcome', End: true },
    },
  },
  'approval-path': {
    StartAt: 'Approve',
    States: {
      Approve: {
        Type: 'Task',
        Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
        Parameters: {
          FunctionName: '${ApproveFunctionArn}',
          Payload: { 'token.$': '$$.Task.Token', 'execution.$': '$$.Execution.Id' },
        },
        TimeoutSecondsPath: '$.deployment.approvalTimeoutSeconds',
        ResultPath: '$.decision',
        Catch: [{ ErrorEquals: ['States.Timeout'], ResultPath: '$.failure', Next: 'TimedOut' }],
        End: true,
      },
      TimedOut: { Type: 'Pass', Result: 'timed-out', ResultPath: '$.outcome', End: true },
    },
  },
  long: {
    StartAt: 'First',
    States: {
      First: invoke('Echo', '$', { ResultPath: null, Next: 'Soak' }),
      Soak: { Type: 'Wait', Seconds: 600, Next: 'Second' },
      Second: invoke('Echo', '$', { End: true }),
    },
  },
  'stop-self': {
    StartAt: 'Stop',
    States: {
      Stop: invoke('StopSelf', { 'executionArn.$': '$$.Execution.Id' }, { Next: 'Soak' }),
      Soak: { Type: 'Wait', Seconds: 600, Next: 'After' },
      After: invoke('Echo', '$', { End: true }),
    },
  },
  timeout: {
    StartAt: 'Soak',
    TimeoutSeconds: 300,
    States: {
      Soak: { Type: 'Wait', Seconds: 900, Next: 'After' },
      After: invoke('Echo', '$', { End: true }),
    },
  },
};

const seconds = (r: RunResult) => (r.stoppedAt.getTime() - r.startedAt.getTime()) / 1000;
const entered = (r: RunResult) => r.history.filter((h) => h.type === 'StateEntered').map((h) => h.state);

const local = withLocalCloud({ environment: 'staging', handlers });

describe('the local runner', () => {
  const arns: Record<string, string> = {};

  beforeAll(async () => {
    for (const [name, definition] of Object.entries(definitions)) {
      arns[name] = (await local.cloud.runner.register({ name: `test-${name}`, definition })).arn;
    }
    await local.cloud.events.addRule({
      name: 'test-ended-badly',
      eventPattern: {
        source: ['aws.states'],
        'detail-type': ['Step Functions Execution Status Change'],
        detail: {
          status: ['FAILED', 'TIMED_OUT', 'ABORTED'],
          stateMachineArn: [arns.long, arns['stop-self'], arns.timeout, arns.fail],
        },
      },
      handler: 'collect-status',
    });
  });

  beforeEach(() => {
    received.length = 0;
  });

  it('runs a Wait on the simulated clock: the bake takes 30 simulated minutes and little wall time', async () => {
    // Act
    const result = await local.cloud.runner.run({ stateMachine: 'test-bake', input: { seconds: 1800 } });
    // Assess
    expect(result.status).toBe('SUCCEEDED');
    expect(seconds(result)).toBe(1800);
    expect(result.wallMs).toBeLessThan(5000);
    expect((result.output as { at: string }).at).toBe(
      new Date(result.startedAt.getTime() + 1800_000).toISOString(),
    );
    expect(result.history.find((h) => h.type === 'StateExited' && h.state === 'Bake')).toMatchObject({
      stateType: 'Wait',
      seconds: 1800,
    });
    expect(entered(result)).toEqual(['Prepare', 'Bake', 'Echo']);
  });

  it('gives the definition the context object in simulated time', async () => {
    const result = await local.cloud.runner.run({
      stateMachine: 'test-context',
      input: {},
      name: 'context-run',
    });

    expect(result.output).toEqual({
      echo: {
        start: result.startedAt.toISOString(),
        name: 'context-run',
        execution: result.executionArn,
        machine: 'test-context',
        entered: new Date(result.startedAt.getTime() + 120_000).toISOString(),
        state: 'Echo',
        at: result.stoppedAt.toISOString(),
      },
    });
  });

  it('retries a named error at once, counting the retries, and hands a caught error to Catch as Lambda reports it', async () => {
    const result = await local.cloud.runner.run({ stateMachine: 'test-retry', input: {} });

    expect(result.status).toBe('SUCCEEDED');
    expect(result.retries).toBe(2);
    expect(seconds(result)).toBe(0);
    const output = result.output as {
      flaky: { Payload: { calls: number } };
      failure: { Error: string; Cause: string };
      outcome: string;
    };
    expect(output.flaky.Payload.calls).toBe(3);
    expect(output.outcome).toBe('recovered');
    expect(output.failure.Error).toBe('BoomError');
    expect(JSON.parse(output.failure.Cause)).toMatchObject({
      errorType: 'BoomError',
      errorMessage: 'the candidate never became steady',
    });
    expect(result.history.filter((h) => h.type === 'StateRetried').map((h) => h.attempt)).toEqual([1, 2]);
  });

  it('fails an execution with the error name and the JSON cause when nothing catches it, and reports it', async () => {
    const result = await local.cloud.runner.run({ stateMachine: 'test-fail', input: {} });

    expect(result).toMatchObject({ status: 'FAILED', error: 'BoomError' });
    expect(JSON.parse(result.cause!)).toMatchObject({ errorType: 'BoomError' });
    expect(received.map((r) => [r.handler, r.event.detail.status])).toEqual([['collect-status', 'FAILED']]);
  });

  describe('a waitForTaskToken step', () => {
    it('hands the handler a token and continues with the output a decision sends', async () => {
      const run = await local.cloud.runner.start({
        stateMachine: 'test-approval',
        input: { release: '1.4.2' },
      });
      const pending = await local.cloud.taskTokens.next((t) => t.executionArn === run.executionArn);

      local.cloud.taskTokens.succeed(pending.token, { approvedBy: 'ops' });
      const result = await run.result;

      expect(approvals.at(-1)).toEqual({ token: pending.token, execution: run.executionArn });
      expect(result.status).toBe('SUCCEEDED');
      expect(result.output).toEqual({
        release: '1.4.2',
        decision: { approvedBy: 'ops' },
        outcome: 'approved',
      });
    });

    it('takes a rejection sent by a handler through SendTaskFailure to Catch', async () => {
      const run = await local.cloud.runner.start({ stateMachine: 'test-approval', input: {} });
      const pending = await local.cloud.taskTokens.next((t) => t.executionArn === run.executionArn);

      await local.cloud.deps.sfn.send(
        new SendTaskFailureCommand({ taskToken: pending.token, error: 'Rejected', cause: 'not today' }),
      );
      const result = await run.result;

      expect(result.output).toMatchObject({
        outcome: 'rejected',
        failure: { Error: 'Rejected', Cause: 'not today' },
      });
    });

    it('reads its timeout from the input through TimeoutSecondsPath', async () => {
      const input = { deployment: { approvalTimeoutSeconds: 900 } };
      const run = await local.cloud.runner.start({ stateMachine: 'test-approval-path', input });
      const pending = await local.cloud.taskTokens.next((t) => t.executionArn === run.executionArn);

      await local.cloud.clock.advance(900);
      const result = await run.result;

      expect(approvals.at(-1)?.token).toBe(pending.token);
      expect(result.output).toMatchObject({ outcome: 'timed-out', failure: { Error: 'States.Timeout' } });
      expect(seconds(result)).toBe(900);
    });

    it('times out after its TimeoutSeconds of simulated time, after which a decision is refused', async () => {
      const run = await local.cloud.runner.start({ stateMachine: 'test-approval', input: {} });
      const pending = await local.cloud.taskTokens.next((t) => t.executionArn === run.executionArn);

      await local.cloud.clock.advance(3600);
      const result = await run.result;

      expect(result.output).toMatchObject({ outcome: 'timed-out', failure: { Error: 'States.Timeout' } });
      expect(seconds(result)).toBe(3600);
      expect(() => local.cloud.taskTokens.succeed(pending.token, {})).toThrow(
        expect.objectContaining({ name: 'TaskTimedOut' }),
      );
    });
  });

  it('ends ABORTED when the execution is stopped in moto mid-wait, and publishes the status change', async () => {
    // Prepare: stop it two simulated minutes in, as the rollback Lambda would on an alarm.
    const { cloud } = local;
    const run = await cloud.runner.start({ stateMachine: 'test-long', input: {} });
    const startedAt = cloud.clock.now().getTime();
    const removeTicker = cloud.clock.onTick(async (now) => {
      if (now.getTime() - startedAt >= 120_000) {
        removeTicker();
        await cloud.clients.sfn.send(new StopExecutionCommand({ executionArn: run.executionArn }));
      }
    });
    // Act
    const result = await run.result;
    // Assess
    expect(result.status).toBe('ABORTED');
    expect(seconds(result)).toBeGreaterThanOrEqual(120);
    expect(seconds(result)).toBeLessThan(180);
    expect(entered(result)).toEqual(['First', 'Soak']);
    const moto = await cloud.clients.sfn.send(
      new DescribeExecutionCommand({ executionArn: run.executionArn }),
    );
    expect(moto.status).toBe('ABORTED');
    expect(received.map((r) => r.event.detail)).toEqual([
      expect.objectContaining({
        status: 'ABORTED',
        executionArn: run.executionArn,
        stateMachineArn: arns.long,
      }),
    ]);
    // The stack's reconciler rule matches only the deployment state machines: it received nothing.
    expect(result.statusEvent?.deliveries.map((d) => d.rule)).toEqual(['test-ended-badly']);
  });

  it('ends ABORTED right after the Task whose handler stopped its own execution', async () => {
    const result = await local.cloud.runner.run({ stateMachine: 'test-stop-self', input: {} });

    expect(result.status).toBe('ABORTED');
    expect(seconds(result)).toBe(0);
    expect(entered(result)).toEqual(['Stop']);
  });

  it("times out on the definition's TimeoutSeconds in simulated time", async () => {
    const result = await local.cloud.runner.run({ stateMachine: 'test-timeout', input: {} });

    expect(result).toMatchObject({ status: 'TIMED_OUT', error: 'States.Timeout' });
    expect(seconds(result)).toBe(300);
    expect(received.map((r) => r.event.detail.status)).toEqual(['TIMED_OUT']);
  });

  it('runs executions concurrently on one clock, each waiting its own time', async () => {
    const [long, short] = await Promise.all([
      local.cloud.runner.run({ stateMachine: 'test-bake', input: { seconds: 300 } }),
      local.cloud.runner.run({ stateMachine: 'test-bake', input: { seconds: 60 } }),
    ]);

    expect([long.status, short.status]).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    expect(seconds(long)).toBe(300);
    expect(seconds(short)).toBe(60);
    expect(short.stoppedAt.getTime()).toBeLessThan(long.stoppedAt.getTime());
  });

  it('runs an execution that a handler starts through its Step Functions client', async () => {
    const started = (await local.cloud.handlers.invoke('start-bake', { stateMachineArn: arns.bake })) as {
      executionArn: string;
    };

    const result = await local.cloud.runner.result(started.executionArn);

    expect(result).toMatchObject({ status: 'SUCCEEDED', executionArn: started.executionArn });
  });

  it('shows handlers the execution as the runner ran it, while moto still says RUNNING', async () => {
    const result = await local.cloud.runner.run({ stateMachine: 'test-bake', input: { seconds: 60 } });

    const seen = await local.cloud.deps.sfn.send(
      new DescribeExecutionCommand({ executionArn: result.executionArn }),
    );
    const moto = await local.cloud.clients.sfn.send(
      new DescribeExecutionCommand({ executionArn: result.executionArn }),
    );

    expect(seen).toMatchObject({
      status: 'SUCCEEDED',
      startDate: result.startedAt,
      stopDate: result.stoppedAt,
    });
    expect(JSON.parse(seen.output!)).toEqual(result.output);
    expect(moto.status).toBe('RUNNING');
  });
});

describe('event delivery', () => {
  beforeAll(async () => {
    const alarmPattern = (alarmName: string) => ({
      source: ['aws.cloudwatch'],
      'detail-type': ['CloudWatch Alarm State Change'],
      detail: { alarmName: [alarmName], state: { value: ['ALARM'] } },
    });
    await local.cloud.events.addRule({
      name: 'test-checkout',
      eventPattern: alarmPattern('test-checkout-errors'),
      handler: 'collect-alarm',
    });
    await local.cloud.events.addRule({
      name: 'test-catalog',
      eventPattern: alarmPattern('test-catalog-errors'),
      handler: 'collect-other-alarm',
    });
  });

  it('hands an event only to the handlers of rules whose pattern matches it, as the target receives it', async () => {
    // Prepare
    received.length = 0;
    const now = local.cloud.clock.now();
    // Act
    const published = await local.cloud.events.publish({
      source: 'aws.cloudwatch',
      'detail-type': 'CloudWatch Alarm State Change',
      resources: ['arn:aws:cloudwatch:eu-west-1:222222222222:alarm:test-checkout-errors'],
      detail: {
        alarmName: 'test-checkout-errors',
        state: { value: 'OK' },
        previousState: { value: 'ALARM' },
      },
    });
    const firing = await local.cloud.events.publish({
      source: 'aws.cloudwatch',
      'detail-type': 'CloudWatch Alarm State Change',
      resources: ['arn:aws:cloudwatch:eu-west-1:222222222222:alarm:test-checkout-errors'],
      detail: {
        alarmName: 'test-checkout-errors',
        state: { value: 'ALARM' },
        previousState: { value: 'OK' },
      },
    });
    // Assess
    expect(published.deliveries.filter((d) => d.rule.startsWith('test-'))).toEqual([]);
    expect(
      firing.deliveries.filter((d) => d.rule.startsWith('test-')).map((d) => [d.rule, d.handler]),
    ).toEqual([['test-checkout', 'collect-alarm']]);
    expect(received).toHaveLength(1);
    expect(received[0]!.event).toMatchObject({
      source: 'aws.cloudwatch',
      'detail-type': 'CloudWatch Alarm State Change',
      account: '222222222222',
      region: 'eu-west-1',
      id: firing.eventId,
      time: now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      detail: { alarmName: 'test-checkout-errors', state: { value: 'ALARM' } },
    });
    expect(received[0]!.event).not.toHaveProperty('ingestion-time');
  });
});

describe('stopping the cloud', () => {
  it('ends the runs still in progress as ABORTED before it stops moto', async () => {
    // Prepare: a run that waits for an approval that never comes
    const { cloud } = local;
    const run = await cloud.runner.start({ stateMachine: 'test-approval', input: {} });
    await cloud.taskTokens.next((t) => t.executionArn === run.executionArn);
    // Act
    await cloud.stop();
    // Assess
    await expect(run.result).resolves.toMatchObject({ status: 'ABORTED', error: 'LocalCloud.Shutdown' });
    expect(cloud.moto.isAlive()).toBe(false);
  });
});
