/**
 * Faulted runs: throttled and failing AWS calls, steps that crash after their AWS call succeeded, a lost race,
 * an execution stopped mid-shift, events delivered twice and out of order. After every run the invariants hold:
 * weights sum to 100 on one version, no lock without a running execution, one terminal record per execution, a
 * rollback record for every rollback, no candidate left behind.
 */
import { StopExecutionCommand } from '@aws-sdk/client-sfn';
import { FaultInjector, type Fault } from '../../localcloud/faults';
import { checkInvariants, type RunRef } from '../../localcloud/invariants';
import { LocalCloud } from '../../localcloud';
import {
  deploymentRecords,
  eventually,
  readPercentilesAsMaximum,
  serviceOf,
  tableItems,
  traffic,
} from './support/world';

jest.setTimeout(120_000);

const faults = new FaultInjector();
const runs: RunRef[] = [];
let cloud: LocalCloud;
let images = 0;
const release = () => ({
  environment: 'staging',
  service: 'checkout',
  image: `public.ecr.aws/nginx/nginx:2.${++images}`,
  requestedBy: 'faults',
});

beforeAll(async () => {
  cloud = await LocalCloud.start({
    logLevel: 'WARN',
    environment: 'staging',
    configureHandlerClients: faults.install,
  });
  readPercentilesAsMaximum(cloud);
});
afterAll(async () => cloud?.stop());

const droppedEvents = async (handler: string) =>
  (await tableItems(cloud)).filter(
    (i) => i.kind === 'DROPPED_EVENT' && i.handler === handler && String(i.reason).length > 0,
  );
afterEach(async () => {
  faults.disarm();
  expect(await checkInvariants(cloud, runs)).toEqual([]);
});

describe.each([
  [
    'listener changes throttled twice',
    [{ kind: 'throttle', command: 'ModifyListenerCommand', times: 2 }],
    'SUCCEEDED',
  ],
  [
    'task set scaling answering 500 three times',
    [{ kind: 'server-error', command: 'UpdateTaskSetCommand', times: 3 }],
    'SUCCEEDED',
  ],
  [
    'a traffic step crashing after its listener change succeeded',
    [{ kind: 'crash-after', command: 'ModifyListenerCommand', times: 1 }],
    'SUCCEEDED',
  ],
  [
    'the candidate step crashing after its task set was created',
    [{ kind: 'crash-after', command: 'CreateTaskSetCommand', times: 1 }],
    'SUCCEEDED',
  ],
  [
    'a table throttled on every write for a while',
    [{ kind: 'throttle', command: 'UpdateItemCommand', times: 3 }],
    'SUCCEEDED',
  ],
  [
    'the lock lost to a concurrent writer',
    [{ kind: 'lose-race', command: 'TransactWriteItemsCommand', times: 1 }],
    'REJECTED',
  ],
  [
    'the service unreadable through every retry of a step',
    [{ kind: 'server-error', command: 'DescribeServicesCommand', skip: 2, times: 5 }],
    'ROLLED_BACK',
  ],
] as [string, Fault[], string][])('a canary with %s', (_name, armed, outcome) => {
  it(`ends ${outcome} and keeps every promise`, async () => {
    const load = traffic(cloud, serviceOf(cloud), { blue: 0, green: 0 });
    faults.arm(...armed);
    const run = await cloud.runner.run({ stateMachine: 'canary', input: release() });
    load.stop();
    runs.push(run);
    expect(faults.report().every((f) => f.hits > 0)).toBe(true);
    const record = (await deploymentRecords(cloud)).find((r) => r.deploymentId === run.name)!;
    expect(record.status).toBe(outcome);
  });
});

it('an execution stopped in the middle of a traffic shift ends ABORTED with traffic on stable', async () => {
  const load = traffic(cloud, serviceOf(cloud), { blue: 0, green: 0 });
  const handle = await cloud.runner.start({ stateMachine: 'rolling', input: release() });
  await eventually(
    async () =>
      (await deploymentRecords(cloud)).find(
        (r) =>
          r.deploymentId === handle.name &&
          (r.weights as { candidate: number } | undefined)?.candidate === 25,
      ),
    'the first rolling step',
  );
  await cloud.depsFor('reconcile').sfn.send(
    new StopExecutionCommand({
      executionArn: handle.executionArn,
      error: 'Operator',
      cause: 'stopped by hand',
    }),
  );
  const run = await handle.result;
  load.stop();
  runs.push(run);
  expect(run.status).toBe('ABORTED');
  expect(run.statusEvent?.deliveries.map((d) => d.handler)).toEqual(['reconcile']);
  expect((await deploymentRecords(cloud)).find((r) => r.deploymentId === handle.name)).toMatchObject({
    status: 'ABORTED',
  });
});

it('a status event delivered twice, and one arriving late for an old execution, change nothing more', async () => {
  const last = runs.at(-1)!;
  const before = await deploymentRecords(cloud);
  const event = (name: string, status: string) => ({
    version: '0',
    id: `late-${name}-${status}`,
    'detail-type': 'Step Functions Execution Status Change',
    source: 'aws.states',
    account: '222222222222',
    time: cloud.clock.now().toISOString(),
    region: 'eu-west-1',
    resources: [],
    detail: {
      executionArn: `arn:aws:states:eu-west-1:222222222222:execution:x:${name}`,
      stateMachineArn: 'arn:aws:states:eu-west-1:222222222222:stateMachine:x',
      name,
      status,
      input: '{}',
    },
  });
  for (const e of [
    event(last.name, 'ABORTED'),
    event(last.name, 'ABORTED'),
    event(runs[0]!.name, 'FAILED'),
  ]) {
    await expect(cloud.handlers.invoke('reconcile', e)).resolves.toMatchObject({ outcome: 'ignored' });
  }
  expect(await deploymentRecords(cloud)).toEqual(before);
});

it.each([
  [
    'an alarm event without detail',
    { source: 'aws.cloudwatch', 'detail-type': 'CloudWatch Alarm State Change', id: 'x1', time: 't' },
  ],
  [
    'an alarm event with a numeric alarm name',
    {
      source: 'aws.cloudwatch',
      'detail-type': 'CloudWatch Alarm State Change',
      id: 'x2',
      time: 't',
      detail: { alarmName: 42, state: { value: 'ALARM' } },
    },
  ],
  ['something else entirely', { hello: 'world' }],
])('the rollback function drops %s without crashing and changes nothing', async (_n, event) => {
  const before = await deploymentRecords(cloud);
  const dropped = await droppedEvents('rollback');
  await expect(cloud.handlers.invoke('rollback', event)).resolves.toMatchObject({ outcome: 'dropped' });
  expect(await deploymentRecords(cloud)).toEqual(before);
  // Dropped, not lost: kept with the reason.
  expect(await droppedEvents('rollback')).toHaveLength(dropped.length + 1);
});

it.each([
  [
    'a status event with no execution name',
    {
      source: 'aws.states',
      'detail-type': 'Step Functions Execution Status Change',
      id: 'y1',
      time: 't',
      detail: { status: 'FAILED' },
    },
  ],
  [
    'a status event with an unknown status',
    {
      source: 'aws.states',
      'detail-type': 'Step Functions Execution Status Change',
      id: 'y2',
      time: 't',
      detail: { executionArn: 'a', stateMachineArn: 'b', name: 'n', status: 'EXPLODED' },
    },
  ],
])('the reconciler drops %s without crashing and changes nothing', async (_n, event) => {
  const before = await deploymentRecords(cloud);
  const dropped = await droppedEvents('reconcile');
  await expect(cloud.handlers.invoke('reconcile', event)).resolves.toMatchObject({ outcome: 'dropped' });
  expect(await deploymentRecords(cloud)).toEqual(before);
  expect(await droppedEvents('reconcile')).toHaveLength(dropped.length + 1);
});
