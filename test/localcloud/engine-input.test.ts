/**
 * Bad execution input, as the Step Functions console would start it: rejected by the first step with a message
 * that names the field; moto's ECS, ELB and table state is unchanged but for the one REJECTED record.
 */
import { LocalCloud } from '../../localcloud';
import { serviceOf, tableItems, taskSets, weights } from './support/world';

jest.setTimeout(120_000);

const good = {
  environment: 'staging',
  service: 'checkout',
  image: 'public.ecr.aws/nginx/nginx:1.28',
  reason: 'release 1.28',
  requestedBy: 'release-bot',
};

describe('bad execution input', () => {
  let cloud: LocalCloud;
  beforeAll(async () => {
    cloud = await LocalCloud.start({ logLevel: 'WARN', environment: 'staging' });
  });
  afterAll(async () => cloud?.stop());

  it.each([
    ['an unknown field', { ...good, colour: 'blue' }, 'canary', /colour: unknown field/],
    ['a missing image', { ...good, image: undefined }, 'canary', /image.*missing/],
    [
      'an image that is not a reference',
      { ...good, image: 'not an image!' },
      'canary',
      /image: must be a container image reference/,
    ],
    [
      'a wrong type',
      { ...good, strategyOptions: { bakeSeconds: '300' } },
      'canary',
      /strategyOptions\.bakeSeconds.*number/,
    ],
    [
      'a canary step over 100',
      { ...good, strategyOptions: { steps: [10, 150] } },
      'canary',
      /strategyOptions\.steps\[1\].*at most 100/,
    ],
    [
      'steps not increasing',
      { ...good, strategyOptions: { steps: [50, 20, 100] } },
      'canary',
      /steps must increase/,
    ],
    ['a negative bake', { ...good, strategyOptions: { bakeSeconds: -1 } }, 'canary', /bakeSeconds.*negative/],
    [
      'steps given to a rolling deployment',
      { ...good, strategyOptions: { steps: [50, 100] } },
      'rolling',
      /steps applies only to canary/,
    ],
    [
      'an unknown environment',
      { ...good, environment: 'qa' },
      'canary',
      /environment "qa" is not managed here/,
    ],
    [
      'an unknown service',
      { ...good, service: 'payments' },
      'canary',
      /service "payments" is not registered in staging/,
    ],
    [
      'the image already serving',
      { ...good, image: 'public.ecr.aws/nginx/nginx:1.27' },
      'canary',
      /already serving/,
    ],
  ])('%s is rejected naming it, and nothing changes', async (_case, input, stateMachine, message) => {
    // Given
    const service = serviceOf(cloud);
    const before = {
      weights: await weights(cloud, service),
      taskSets: await taskSets(cloud, service),
      items: await tableItems(cloud),
    };
    // When
    const run = await cloud.runner.run({ stateMachine, input });
    // Then
    expect({ status: run.status, error: run.error }).toEqual({
      status: 'FAILED',
      error: 'DeploymentRejected',
    });
    expect(await weights(cloud, service)).toEqual(before.weights);
    expect(await taskSets(cloud, service)).toEqual(before.taskSets);
    const after = await tableItems(cloud);
    const added = after.filter((i) => !before.items.some((b) => b.pk === i.pk && b.sk === i.sk));
    expect(added).toHaveLength(1);
    expect(added[0]).toMatchObject({ kind: 'DEPLOYMENT', status: 'REJECTED', deploymentId: run.name });
    expect(String(added[0]!.error)).toMatch(message);
    expect(after.filter((i) => before.items.some((b) => b.pk === i.pk && b.sk === i.sk))).toEqual(
      before.items,
    );
  });
});
