/**
 * Automatic and manual rollback in the local cloud: alarm events shaped as CloudWatch sends them, delivered only
 * where the synthesized rule's pattern matches, to the real rollback handler; the manual rollback state machine;
 * the reconciler. Assertions read moto and the table.
 */
import { LocalCloud } from '../../localcloud';
import type { RunHandle } from '../../localcloud';
import { localClients } from '../../localcloud/clients';
import { make as makeRollback } from '../../lambdas/handlers/rollback';
import {
  deploymentRecords,
  eventually,
  readPercentilesAsMaximum,
  rollbackRecords,
  serviceOf,
  tableItems,
  taskSets,
  traffic,
  weights,
} from './support/world';

jest.setTimeout(120_000);

const release = (image: string) => ({
  environment: 'staging',
  service: 'checkout',
  image,
  reason: 'release',
  requestedBy: 'rollback-test',
});

const alarmEvent = (cloud: LocalCloud, alarmName: string, state = 'ALARM') => ({
  source: 'aws.cloudwatch',
  'detail-type': 'CloudWatch Alarm State Change',
  resources: [`arn:aws:cloudwatch:eu-west-1:222222222222:alarm:${alarmName}`],
  detail: {
    alarmName,
    configuration: { description: 'test' },
    previousState: { value: 'OK', reason: 'ok', timestamp: cloud.clock.now().toISOString() },
    state: {
      value: state,
      reason: 'Threshold Crossed: 2 out of the last 3 datapoints',
      timestamp: cloud.clock.now().toISOString().replace('Z', '+0000'),
    },
  },
});

describe('rollback on an alarm', () => {
  let cloud: LocalCloud;
  const calls: string[] = [];
  const counted: { middlewareStack: { add: unknown } }[] = [];
  let counting = false;
  beforeAll(async () => {
    // The rollback handler gets clients of its own, so that its calls are counted apart from the steps'.
    cloud = await LocalCloud.start({
      logLevel: 'WARN',
      environment: 'staging',
      handlers: {
        rollback: (deps) => {
          const own = localClients({ endpoint: cloud.moto.endpoint, region: 'eu-west-1' });
          counted.push(own.dynamodb, own.elb, own.ecs, own.sfn, own.sns);
          return makeRollback({ ...deps, dynamodb: own.dynamodb, elb: own.elb, ecs: own.ecs, sns: own.sns });
        },
      },
    });
    readPercentilesAsMaximum(cloud);
    // Build the handler now and count the AWS calls it makes, in order.
    cloud.handlers.get('rollback');
    for (const client of counted) {
      (client.middlewareStack.add as (mw: unknown, o: unknown) => void)(
        (next: (a: unknown) => Promise<unknown>, ctx: { commandName?: string }) => async (args: unknown) => {
          if (counting) calls.push(ctx.commandName ?? '?');
          return next(args);
        },
        { step: 'initialize', name: 'countCalls' },
      );
    }
  });
  afterAll(async () => cloud?.stop());

  /** Starts a canary and waits until its first step has moved traffic. */
  async function canaryInFlight(image: string): Promise<RunHandle> {
    const handle = await cloud.runner.start({ stateMachine: 'canary', input: release(image) });
    await eventually(
      async () =>
        (await deploymentRecords(cloud)).find(
          (r) =>
            r.deploymentId === handle.name &&
            (r.weights as { candidate: number } | undefined)?.candidate === 10,
        ),
      'the canary to take 10 %',
    );
    return handle;
  }

  it('during a canary step: 100 % on stable, the execution ABORTED, one rollback record with trigger alarm', async () => {
    const service = serviceOf(cloud);
    const before = await taskSets(cloud, service);
    const load = traffic(cloud, service, { blue: 0, green: 0 });
    const handle = await canaryInFlight('public.ecr.aws/nginx/nginx:1.28');
    expect(await weights(cloud, service)).toEqual({ blue: 90, green: 10 });

    calls.length = 0;
    counting = true;
    const published = await cloud.events.publish(alarmEvent(cloud, 'checkout-staging-error-rate-green'));
    counting = false;
    const run = await handle.result;
    load.stop();

    expect(published.deliveries.map((d) => d.handler)).toEqual(['rollback']);
    expect(published.deliveries[0]!.result).toMatchObject({ outcome: 'rolled-back' });
    // Traffic first: one read that finds the deployment, then the listener change.
    expect(calls.slice(0, calls.indexOf('ModifyListenerCommand') + 1)).toEqual([
      'GetItemCommand',
      'ModifyListenerCommand',
    ]);
    expect(run.status).toBe('ABORTED');
    expect(await weights(cloud, service)).toEqual({ blue: 100, green: 0 });
    expect(await taskSets(cloud, service)).toEqual(before);
    const rollbacks = (await rollbackRecords(cloud)).filter((r) => r.deploymentId === handle.name);
    expect(rollbacks).toHaveLength(1);
    expect(rollbacks[0]).toMatchObject({
      trigger: 'alarm',
      alarmName: 'checkout-staging-error-rate-green',
      outcome: 'RESTORED',
    });
    const record = (await deploymentRecords(cloud)).find((r) => r.deploymentId === handle.name)!;
    expect(record).toMatchObject({ status: 'ROLLED_BACK', trigger: 'alarm' });
    const state = (await tableItems(cloud)).find(
      (i) => i.pk === 'SERVICE#staging#checkout' && i.sk === 'STATE',
    );
    expect(state?.lock).toBeUndefined();
  });

  it('the same event twice and several alarms at once give one rollback and one record', async () => {
    const service = serviceOf(cloud);
    const load = traffic(cloud, service, { blue: 0, green: 0 });
    const handle = await canaryInFlight('public.ecr.aws/nginx/nginx:1.29');
    const [first, second, third] = await Promise.all([
      cloud.events.publish(alarmEvent(cloud, 'checkout-staging-error-rate-green')),
      cloud.events.publish(alarmEvent(cloud, 'checkout-staging-latency-green')),
      cloud.events.publish(alarmEvent(cloud, 'checkout-staging-unhealthy-hosts-green')),
    ]);
    // EventBridge delivers at least once: the first event arrives again.
    const again = await cloud.handlers.invoke('rollback', first.deliveries[0]!.event);
    await handle.result;
    load.stop();
    const outcomes = [first, second, third].map(
      (p) => (p.deliveries[0]!.result as { outcome: string }).outcome,
    );
    expect(outcomes.filter((o) => o === 'rolled-back')).toHaveLength(1);
    expect(again).toMatchObject({ outcome: expect.stringMatching(/already-handled|ignored/) });
    expect((await rollbackRecords(cloud)).filter((r) => r.deploymentId === handle.name)).toHaveLength(1);
    expect((await rollbackRecords(cloud)).filter((r) => r.outcome === 'IGNORED')).toEqual([]);
    expect(await weights(cloud, service)).toEqual({ blue: 100, green: 0 });
  });

  it('an alarm with no active deployment changes nothing and is recorded as ignored', async () => {
    // Well after the last rollback, so that this alarm is no part of that incident.
    await cloud.clock.advance(20 * 60);
    const service = serviceOf(cloud);
    const before = { weights: await weights(cloud, service), taskSets: await taskSets(cloud, service) };
    const published = await cloud.events.publish(alarmEvent(cloud, 'checkout-staging-error-rate-blue'));
    expect(published.deliveries[0]!.result).toMatchObject({
      outcome: 'ignored',
      reason: expect.stringMatching(/no active deployment/),
    });
    expect({ weights: await weights(cloud, service), taskSets: await taskSets(cloud, service) }).toEqual(
      before,
    );
    const ignored = (await rollbackRecords(cloud)).filter((r) => r.outcome === 'IGNORED');
    expect(ignored).toHaveLength(1);
    expect(ignored[0]).toMatchObject({ alarmName: 'checkout-staging-error-rate-blue', service: 'checkout' });
  });

  it('get_rollback_history lists the rollbacks of a service and of the environment newest first, a page at a time', async () => {
    const all = await rollbackRecords(cloud);
    expect(all.length).toBeGreaterThanOrEqual(3);
    const newestFirst = [...all].sort((a, b) => String(b.startedAt).localeCompare(String(a.startedAt)));
    const page1 = (await cloud.handlers.invoke('rollback-history', {
      environment: 'staging',
      service: 'checkout',
      limit: 2,
    })) as { items: { rollbackId: string }[]; next?: string };
    expect(page1.items.map((r) => r.rollbackId)).toEqual(newestFirst.slice(0, 2).map((r) => r.rollbackId));
    expect(page1.next).toBeDefined();
    const page2 = (await cloud.handlers.invoke('rollback-history', {
      environment: 'staging',
      service: 'checkout',
      limit: 2,
      cursor: page1.next,
    })) as { items: { rollbackId: string }[] };
    expect(page2.items.map((r) => r.rollbackId)).toEqual(newestFirst.slice(2, 4).map((r) => r.rollbackId));
    const env = (await cloud.handlers.invoke('rollback-history', { environment: 'staging' })) as {
      items: unknown[];
    };
    expect(env.items).toHaveLength(all.length);
    await expect(
      cloud.handlers.invoke('rollback-history', { environment: 'staging', limit: 0 }),
    ).rejects.toThrow(/limit: must be at least 1/);
  });

  it('an alarm the environment does not own, or one going back to OK, reaches no handler', async () => {
    expect((await cloud.events.publish(alarmEvent(cloud, 'someone-elses-alarm'))).deliveries).toEqual([]);
    expect(
      (await cloud.events.publish(alarmEvent(cloud, 'checkout-staging-error-rate-blue', 'OK'))).deliveries,
    ).toEqual([]);
  });
});

describe('manual rollback from the console', () => {
  let cloud: LocalCloud;
  beforeAll(async () => {
    cloud = await LocalCloud.start({ logLevel: 'WARN', environment: 'staging' });
    readPercentilesAsMaximum(cloud);
  });
  afterAll(async () => cloud?.stop());

  const manual = {
    environment: 'staging',
    service: 'checkout',
    reason: 'checkout errors reported by support',
    requestedBy: 'alice',
  };

  it('during a deployment rolls it back: 100 % on stable, trigger manual, requester recorded', async () => {
    const service = serviceOf(cloud);
    const load = traffic(cloud, service, { blue: 0, green: 0 });
    const handle = await cloud.runner.start({
      stateMachine: 'canary',
      input: release('public.ecr.aws/nginx/nginx:1.28'),
    });
    await eventually(
      async () =>
        (await deploymentRecords(cloud)).find(
          (r) =>
            r.deploymentId === handle.name &&
            (r.weights as { candidate: number } | undefined)?.candidate === 10,
        ),
      'the canary to take 10 %',
    );
    const rb = await cloud.runner.run({ stateMachine: 'rollback', input: manual });
    const run = await handle.result;
    load.stop();
    expect(rb.status).toBe('SUCCEEDED');
    expect(run.status).toBe('ABORTED');
    expect(await weights(cloud, service)).toEqual({ blue: 100, green: 0 });
    const rollback = (await rollbackRecords(cloud)).find((r) => r.deploymentId === handle.name)!;
    expect(rollback).toMatchObject({ trigger: 'manual', requestedBy: 'alice', outcome: 'RESTORED' });
  });

  it('after a deployment, within the termination wait, restores the previous version', async () => {
    const service = serviceOf(cloud);
    const load = traffic(cloud, service, { blue: 0, green: 0 });
    const handle = await cloud.runner.start({
      stateMachine: 'canary',
      input: release('public.ecr.aws/nginx/nginx:1.30'),
    });
    await eventually(
      async () =>
        (await deploymentRecords(cloud)).find(
          (r) => r.deploymentId === handle.name && r.status === 'SUCCEEDED',
        ),
      'the deployment to succeed',
    );
    expect(await weights(cloud, service)).toEqual({ blue: 0, green: 100 });
    const rb = await cloud.runner.run({ stateMachine: 'rollback', input: manual });
    await handle.result;
    load.stop();
    expect(rb.status).toBe('SUCCEEDED');
    expect(rb.output).toMatchObject({ outcome: 'rolled-back' });
    expect(await weights(cloud, service)).toEqual({ blue: 100, green: 0 });
    const sets = await taskSets(cloud, service);
    expect(sets).toHaveLength(1);
    expect(sets[0]).toMatchObject({ slot: 'blue', status: 'PRIMARY' });
  });

  it('when nothing is left to roll back, changes nothing and says why', async () => {
    const service = serviceOf(cloud);
    const before = { weights: await weights(cloud, service), taskSets: await taskSets(cloud, service) };
    const rb = await cloud.runner.run({ stateMachine: 'rollback', input: manual });
    expect(rb.status).toBe('SUCCEEDED');
    expect(rb.output).toMatchObject({
      outcome: 'ignored',
      reason: expect.stringMatching(/nothing to roll back/),
    });
    expect({ weights: await weights(cloud, service), taskSets: await taskSets(cloud, service) }).toEqual(
      before,
    );
  });

  it('bad console input is rejected naming the field', async () => {
    const rb = await cloud.runner.run({
      stateMachine: 'rollback',
      input: { ...manual, requestedBy: undefined },
    });
    expect(rb.error).toBe('RollbackRejected');
  });
});

describe('an execution that timed out mid-shift', () => {
  let cloud: LocalCloud;
  beforeAll(async () => {
    const { loadConfigFile } = await import('../../lib/config/load');
    const config = loadConfigFile();
    const staging = config.environments.find((e) => e.name === 'staging')!;
    // A whole deployment may take 300 s; the canary's first bake alone takes 600.
    const shortened = {
      ...config,
      environments: config.environments.map((e) =>
        e === staging
          ? {
              ...e,
              rollback: { ...e.rollback, deploymentTimeoutSeconds: 300 },
              services: e.services.map((s) => ({ ...s, deployment: { ...s.deployment, bakeSeconds: 600 } })),
            }
          : e,
      ),
    };
    cloud = await LocalCloud.start({ logLevel: 'WARN', environment: 'staging', config: shortened });
    readPercentilesAsMaximum(cloud);
  });
  afterAll(async () => cloud?.stop());

  it('ends with traffic on stable, a terminal record and no lock', async () => {
    const service = serviceOf(cloud);
    const before = await taskSets(cloud, service);
    const load = traffic(cloud, service, { blue: 0, green: 0 });
    const run = await cloud.runner.run({
      stateMachine: 'canary',
      input: release('public.ecr.aws/nginx/nginx:1.28'),
    });
    load.stop();
    expect(run.status).toBe('TIMED_OUT');
    expect(run.statusEvent?.deliveries.map((d) => d.handler)).toEqual(['reconcile']);
    expect(await weights(cloud, service)).toEqual({ blue: 100, green: 0 });
    expect(await taskSets(cloud, service)).toEqual(before);
    const record = (await deploymentRecords(cloud)).find((r) => r.deploymentId === run.name)!;
    expect(record).toMatchObject({ status: 'ROLLED_BACK', trigger: 'timeout' });
    const state = (await tableItems(cloud)).find(
      (i) => i.pk === 'SERVICE#staging#checkout' && i.sk === 'STATE',
    );
    expect(state?.lock).toBeUndefined();
  });
});
