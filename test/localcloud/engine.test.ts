/**
 * The deployment state machines from statemachines/, run in aws-local-stepfunctions with every Task bound to the
 * real handler, against moto. Assertions read what moto holds afterwards.
 */
import { LocalCloud } from '../../localcloud';
import {
  deploymentRecords,
  readPercentilesAsMaximum,
  serviceOf,
  taskSets,
  traffic,
  weights,
} from './support/world';

jest.setTimeout(180_000);

const release = (image: string, extra: Record<string, unknown> = {}) => ({
  environment: 'staging',
  service: 'checkout',
  image,
  reason: 'release',
  requestedBy: 'engine-test',
  ...extra,
});

describe.each(['canary', 'blue-green', 'rolling'] as const)('a %s deployment', (strategy) => {
  let cloud: LocalCloud;
  beforeAll(async () => {
    cloud = await LocalCloud.start({ logLevel: 'WARN', environment: 'staging' });
    readPercentilesAsMaximum(cloud);
  });
  afterAll(async () => {
    await cloud?.stop();
  });

  it('that stays healthy ends with 100 % on the candidate, the candidate primary and the old task set gone', async () => {
    // Given healthy traffic on both slots
    const service = serviceOf(cloud);
    const before = await taskSets(cloud, service);
    const load = traffic(cloud, service, { blue: 0, green: 0 });
    // When
    const run = await cloud.runner.run({
      stateMachine: strategy,
      input: release('public.ecr.aws/nginx/nginx:1.28'),
    });
    load.stop();
    // Then
    if (run.status !== 'SUCCEEDED')
      console.log(JSON.stringify(run.history.filter((h) => /Fail|Caught|Retried/.test(h.type)).slice(0, 4)));
    expect({ status: run.status, error: run.error }).toEqual({ status: 'SUCCEEDED', error: undefined });
    expect(await weights(cloud, service)).toEqual({ blue: 0, green: 100 });
    const after = await taskSets(cloud, service);
    expect(after).toHaveLength(1);
    expect(after[0]).toMatchObject({ status: 'PRIMARY', slot: 'green', externalId: run.name });
    expect(after[0]!.arn).not.toBe(before[0]!.arn);
    const record = (await deploymentRecords(cloud)).find((r) => r.deploymentId === run.name)!;
    expect(record).toMatchObject({ status: 'SUCCEEDED', strategy, weights: { stable: 0, candidate: 100 } });
  });

  it('that is unhealthy at its first step ends ROLLED_BACK with 100 % on stable and the candidate gone', async () => {
    // Given the stable version now serves from green; the next candidate fails every other request
    const service = serviceOf(cloud);
    const stableBefore = await taskSets(cloud, service);
    const load = traffic(cloud, service, { blue: 0.5, green: 0 });
    // When
    const run = await cloud.runner.run({
      stateMachine: strategy,
      input: release('public.ecr.aws/nginx/nginx:1.29-bad'),
    });
    load.stop();
    // Then
    expect(run.status).toBe('FAILED');
    expect(run.error).toBe('RolledBack');
    expect(await weights(cloud, service)).toEqual({ blue: 0, green: 100 });
    expect(await taskSets(cloud, service)).toEqual(stableBefore);
    const record = (await deploymentRecords(cloud)).find((r) => r.deploymentId === run.name)!;
    expect(record).toMatchObject({ status: 'ROLLED_BACK', trigger: 'health-check-failure' });
  });
});
