/**
 * The engine's other paths, each a named case: a step that keeps failing, approval (approved, rejected, timed
 * out), a second concurrent execution, and the order in which moto saw capacity and traffic change.
 */
import { TransientAwsError } from '../../lambdas/domain/errors';
import { LocalCloud } from '../../localcloud';
import {
  deploymentRecords,
  eventually,
  readPercentilesAsMaximum,
  serviceOf,
  taskSets,
  traffic,
  weights,
} from './support/world';

jest.setTimeout(60_000);

const release = (environment: string, image: string) => ({
  environment,
  service: 'checkout',
  image,
  reason: 'release',
  requestedBy: 'engine-test',
});

describe('a step that keeps failing', () => {
  let cloud: LocalCloud;
  beforeAll(async () => {
    // Every attempt of the traffic step is throttled, after its retries too.
    cloud = await LocalCloud.start({
      logLevel: 'WARN',
      environment: 'staging',
      handlers: {
        'shift-traffic': () => async () => {
          throw new TransientAwsError('ThrottlingException: Rate exceeded');
        },
      },
    });
    readPercentilesAsMaximum(cloud);
  });
  afterAll(async () => cloud?.stop());

  it('ends ROLLED_BACK with trigger deployment-failure, 100 % on stable and the candidate gone', async () => {
    const service = serviceOf(cloud);
    const before = await taskSets(cloud, service);
    const load = traffic(cloud, service, { blue: 0, green: 0 });
    const run = await cloud.runner.run({
      stateMachine: 'canary',
      input: release('staging', 'public.ecr.aws/nginx/nginx:1.28'),
    });
    load.stop();
    expect(run.retries).toBeGreaterThanOrEqual(4);
    expect(run.error).toBe('RolledBack');
    expect(await weights(cloud, service)).toEqual({ blue: 100, green: 0 });
    expect(await taskSets(cloud, service)).toEqual(before);
    const record = (await deploymentRecords(cloud)).find((r) => r.deploymentId === run.name)!;
    expect(record).toMatchObject({ status: 'ROLLED_BACK', trigger: 'deployment-failure' });
    expect(String(record.error)).toContain('ThrottlingException');
  });
});

describe('approval in production', () => {
  let cloud: LocalCloud;
  beforeAll(async () => {
    cloud = await LocalCloud.start({ logLevel: 'WARN', environment: 'production' });
    readPercentilesAsMaximum(cloud);
  });
  afterAll(async () => cloud?.stop());

  const start = async (image: string) => {
    const service = serviceOf(cloud);
    // Production needs 200 requests a window on the candidate: at 5 % that is 4,000 a minute in all.
    const load = traffic(cloud, service, { blue: 0, green: 0 }, 10_000);
    const handle = await cloud.runner.start({ stateMachine: 'canary', input: release('production', image) });
    const token = await Promise.race([
      cloud.taskTokens.next((t) => t.executionArn === handle.executionArn),
      handle.result.then((r) => {
        throw new Error(`ended ${r.status} ${r.error ?? ''} before asking for approval`);
      }),
    ]);
    // Approvers act on the notification, sent once the record holds the token.
    await eventually(
      async () =>
        (await deploymentRecords(cloud)).find(
          (r) => r.deploymentId === handle.name && r.status === 'AWAITING_APPROVAL',
        ),
      'the deployment to await approval',
    );
    return { service, load, handle, token };
  };

  it('approved: the deployment goes on to 100 % and records who approved', async () => {
    const { service, load, handle, token } = await start('public.ecr.aws/nginx/nginx:1.28');
    const waiting = (await deploymentRecords(cloud)).find((r) => r.deploymentId === handle.name)!;
    expect(waiting).toMatchObject({ status: 'AWAITING_APPROVAL', weights: { candidate: 5 } });
    expect((waiting.approval as { taskToken?: string }).taskToken).toBe(token.token);
    await cloud.handlers.invoke('decide-approval', {
      deploymentId: handle.name,
      decision: 'approve',
      decidedBy: 'alice',
      comment: 'canary looks fine',
    });
    const run = await handle.result;
    load.stop();
    expect(run.status).toBe('SUCCEEDED');
    expect(await weights(cloud, service)).toEqual({ blue: 0, green: 100 });
    const record = (await deploymentRecords(cloud)).find((r) => r.deploymentId === handle.name)!;
    expect(record).toMatchObject({
      status: 'SUCCEEDED',
      approval: { decision: 'approved', decidedBy: 'alice', comment: 'canary looks fine' },
    });
  });

  it('rejected: the deployment rolls back and records who rejected', async () => {
    const { service, load, handle } = await start('public.ecr.aws/nginx/nginx:1.29');
    await cloud.handlers.invoke('decide-approval', {
      deploymentId: handle.name,
      decision: 'reject',
      decidedBy: 'bob',
      comment: 'not today',
    });
    const run = await handle.result;
    load.stop();
    expect(run.error).toBe('RolledBack');
    expect(await weights(cloud, service)).toEqual({ blue: 0, green: 100 });
    const record = (await deploymentRecords(cloud)).find((r) => r.deploymentId === handle.name)!;
    expect(record).toMatchObject({
      status: 'ROLLED_BACK',
      trigger: 'manual',
      approval: { decision: 'rejected', decidedBy: 'bob' },
    });
  });

  it('timed out: no decision before the approval timeout rolls back with trigger timeout', async () => {
    const { service, load, handle } = await start('public.ecr.aws/nginx/nginx:1.30');
    await cloud.clock.advance(3600 + 60);
    const run = await handle.result;
    load.stop();
    expect(run.error).toBe('RolledBack');
    expect(await weights(cloud, service)).toEqual({ blue: 0, green: 100 });
    const record = (await deploymentRecords(cloud)).find((r) => r.deploymentId === handle.name)!;
    expect(record).toMatchObject({
      status: 'ROLLED_BACK',
      trigger: 'timeout',
      approval: { decision: 'timed-out' },
    });
  });

  it('a decision for a deployment that is not waiting is refused and changes nothing', async () => {
    const before = await deploymentRecords(cloud);
    await expect(
      cloud.handlers.invoke('decide-approval', {
        deploymentId: before[0]!.deploymentId,
        decision: 'approve',
        decidedBy: 'mallory',
      }),
    ).rejects.toThrow(/not waiting for approval/);
    expect(await deploymentRecords(cloud)).toEqual(before);
  });
});

describe('two executions for one service', () => {
  let cloud: LocalCloud;
  beforeAll(async () => {
    cloud = await LocalCloud.start({ logLevel: 'WARN', environment: 'staging' });
    readPercentilesAsMaximum(cloud);
  });
  afterAll(async () => cloud?.stop());

  it('rejects the second at once, touching nothing, and leaves the first undisturbed', async () => {
    const service = serviceOf(cloud);
    const load = traffic(cloud, service, { blue: 0, green: 0 });
    const first = await cloud.runner.start({
      stateMachine: 'canary',
      input: release('staging', 'public.ecr.aws/nginx/nginx:1.28'),
    });
    await eventually(
      async () =>
        (await deploymentRecords(cloud)).find(
          (r) =>
            r.deploymentId === first.name && r.weights && (r.weights as { candidate: number }).candidate > 0,
        ),
      'the first deployment to move traffic',
    );
    const during = { weights: await weights(cloud, service), taskSets: await taskSets(cloud, service) };
    const second = await cloud.runner.run({
      stateMachine: 'rolling',
      input: release('staging', 'public.ecr.aws/nginx/nginx:1.29'),
    });
    expect({ status: second.status, error: second.error }).toEqual({
      status: 'FAILED',
      error: 'DeploymentRejected',
    });
    expect(await taskSets(cloud, service)).toEqual(during.taskSets);
    const firstRun = await first.result;
    load.stop();
    expect(firstRun.status).toBe('SUCCEEDED');
    const records = await deploymentRecords(cloud);
    expect(records.find((r) => r.deploymentId === second.name)).toMatchObject({ status: 'REJECTED' });
    expect(String(records.find((r) => r.deploymentId === second.name)!.error)).toMatch(/in progress|locked/);
    expect(records.find((r) => r.deploymentId === first.name)).toMatchObject({ status: 'SUCCEEDED' });
  });
});

describe('the order of capacity and traffic changes', () => {
  let cloud: LocalCloud;
  const seen: { action: string; weights: { blue: number; green: number }; scales: Record<string, number> }[] =
    [];
  beforeAll(async () => {
    cloud = await LocalCloud.start({ logLevel: 'WARN', environment: 'staging' });
    readPercentilesAsMaximum(cloud);
    // After every mutating ECS or ELB call a handler makes, record the state moto is in.
    const service = serviceOf(cloud);
    const snapshot = (client: { middlewareStack: { add: (...a: never[]) => void } }) =>
      (client.middlewareStack.add as (mw: unknown, opts: unknown) => void)(
        (next: (a: unknown) => Promise<unknown>, context: { commandName?: string }) =>
          async (args: unknown) => {
            const out = await next(args);
            if (/^(Update|Modify|Create|Delete)/.test(context.commandName ?? '')) {
              const sets = await taskSets(cloud, service);
              seen.push({
                action: context.commandName!,
                weights: await weights(cloud, service),
                scales: Object.fromEntries(sets.map((t) => [t.slot ?? '?', t.scale])),
              });
            }
            return out;
          },
        { step: 'deserialize', name: 'snapshotAfterMutation' },
      );
    snapshot(cloud.depsFor('shift-traffic').ecs as never);
    snapshot(cloud.depsFor('shift-traffic').elb as never);
  });
  afterAll(async () => cloud?.stop());

  it('a rolling deployment never has less capacity than traffic on either slot', async () => {
    const service = serviceOf(cloud);
    const load = traffic(cloud, service, { blue: 0, green: 0 });
    const run = await cloud.runner.run({
      stateMachine: 'rolling',
      input: {
        ...release('staging', 'public.ecr.aws/nginx/nginx:1.28'),
        strategyOptions: { stepPercent: 25 },
      },
    });
    load.stop();
    expect(run.status).toBe('SUCCEEDED');
    const shifts = seen.filter((s) => s.action !== 'CreateTaskSetCommand');
    expect(shifts.map((s) => s.weights.green)).toEqual(expect.arrayContaining([25, 50, 75, 100]));
    for (const s of shifts) {
      for (const slot of ['blue', 'green'] as const) {
        if (s.scales[slot] !== undefined) expect(s.scales[slot]).toBeGreaterThanOrEqual(s.weights[slot]);
      }
    }
    // Traffic moved before the stable side was scaled down, step by step.
    const firstTrafficMove = shifts.findIndex((s) => s.weights.green > 0);
    const firstStableDown = shifts.findIndex((s) => (s.scales.blue ?? 100) < 100);
    expect(firstTrafficMove).toBeGreaterThanOrEqual(0);
    expect(firstStableDown).toBeGreaterThan(firstTrafficMove);
  });
});
