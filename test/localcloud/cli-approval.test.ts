/**
 * envctl approve and reject in production, where a person approves before production traffic moves (a
 * deployment) or before a release reaches production at all (a promotion). One local cloud of production; the
 * commands run in-process as a user runs them.
 */
import { LocalBackend } from '../../cli/backends/local';
import { DeploymentStore } from '../../lambdas/adapters/deployment-store';
import { LocalCloud } from '../../localcloud';
import { cliWith, lines, type Cli } from './support/cli';
import { eventually, readPercentilesAsMaximum, serviceOf, traffic } from './support/world';

jest.setTimeout(90_000);

let cloud: LocalCloud;
let cli: Cli;
let store: DeploymentStore;
let load: ReturnType<typeof traffic>;

beforeAll(async () => {
  // Traffic every 15 simulated seconds: a health check right after a shift always finds some in its window.
  cloud = await LocalCloud.start({
    environment: 'production',
    logLevel: 'SILENT',
    clock: { tickSeconds: 15 },
  });
  readPercentilesAsMaximum(cloud);
  cli = cliWith(new LocalBackend(cloud, { pollMs: 20 }));
  store = new DeploymentStore(cloud.clients.dynamodb, cloud.deps.tableName);
  // Production's canary needs 200 requests a window on 5 % of the traffic.
  load = traffic(cloud, serviceOf(cloud), { blue: 0, green: 0 }, 10_000);
});
afterAll(async () => {
  load?.stop();
  await cloud?.stop();
});
afterEach(async () => cloud.runner.idle());

/** The newest deployment of checkout once it waits for approval. */
const awaitingApproval = () =>
  eventually(
    async () =>
      (await store.listDeployments('production', 'checkout', { limit: 1 })).items.find(
        (d) => d.status === 'AWAITING_APPROVAL',
      ),
    'a deployment awaiting approval',
    200,
  );

describe('a deployment awaiting approval', () => {
  it('approved: deploy, which followed it all along, goes on to SUCCEEDED and exits 0', async () => {
    const deploying = cli([
      'deploy',
      'production',
      'checkout',
      '--image',
      'public.ecr.aws/nginx/nginx:1.28',
      '--bake',
      '60',
    ]);
    const waiting = await awaitingApproval();

    const approve = await cli([
      'approve',
      waiting.deploymentId,
      '--as',
      'alice',
      '--comment',
      'canary looks fine',
    ]);

    expect(approve).toEqual({
      code: 0,
      stdout: `deployment ${waiting.deploymentId} approved by alice\n`,
      stderr: '',
    });
    const run = await deploying;
    expect(run.code).toBe(0);
    expect(run.stderr).toContain(`awaiting approval: envctl approve ${waiting.deploymentId}`);
    expect(await store.getDeployment(waiting.deploymentId)).toMatchObject({
      status: 'SUCCEEDED',
      approval: { decision: 'approved', decidedBy: 'alice', comment: 'canary looks fine' },
    });
  });

  it('rejected: the deployment rolls back, and a second decision is refused in one line', async () => {
    const started = await cli([
      'deploy',
      'production',
      'checkout',
      '--image',
      'public.ecr.aws/nginx/nginx:1.29',
      '--bake',
      '60',
      '--no-wait',
    ]);
    expect(started.code).toBe(0);
    const id = started.stdout.trim();
    expect((await awaitingApproval()).deploymentId).toBe(id);

    const reject = await cli(['reject', id, '--as', 'bob', '--comment', 'not today', '--json']);

    expect(reject.code).toBe(0);
    expect(JSON.parse(reject.stdout)).toEqual({
      kind: 'deployment',
      id,
      decision: 'rejected',
      environment: 'production',
      decidedBy: 'bob',
    });
    const ended = await eventually(
      async () =>
        (await store.getDeployment(id))?.status === 'ROLLED_BACK' ? store.getDeployment(id) : undefined,
      'the rejected deployment to roll back',
    );
    expect(ended).toMatchObject({ trigger: 'manual', approval: { decision: 'rejected', decidedBy: 'bob' } });

    const again = await cli(['approve', id]);
    expect(again.code).toBe(1);
    expect(lines(again.stderr)).toEqual([
      `error: invalid decision: deployment ${id} is ROLLED_BACK, not waiting for approval`,
    ]);
  });
});

describe('--local, where the cloud lives for one command', () => {
  let local: Cli;
  beforeAll(() => {
    local = cliWith(new LocalBackend(cloud, { pollMs: 20, ephemeral: true }));
  });
  const image = ['--image', 'public.ecr.aws/nginx/nginx:1.32', '--bake', '60', '--local'];

  it('a deployment waiting for approval ends the command, saying how to decide it', async () => {
    const run = await local(['deploy', 'production', 'checkout', ...image]);

    expect(run.code).toBe(2);
    const waiting = await awaitingApproval();
    expect(lines(run.stderr).at(-1)).toBe(
      `error: deployment ${waiting.deploymentId} waits for approval, which nothing outside this command can give its local cloud: run it again with --local-approval approve (or reject)`,
    );
    expect((await cli(['reject', waiting.deploymentId])).code).toBe(0); // here the cloud outlives the command
  });

  it('--local-approval approve: the command approves it itself and the deployment SUCCEEDS', async () => {
    const run = await local([
      'deploy',
      'production',
      'checkout',
      ...image,
      '--local-approval',
      'approve',
      '--as',
      'erin',
    ]);

    expect(run.code).toBe(0);
    expect(run.stderr).toContain('approval approved as erin (--local-approval)');
  });
});

describe('a promotion to production', () => {
  /** Starts a promotion through production alone and waits until it asks for approval. */
  async function promote(image: string): Promise<string> {
    const started = await cli([
      'promote',
      'checkout',
      '--image',
      image,
      '--through',
      'production',
      '--no-wait',
      '--json',
    ]);
    expect(started.code).toBe(0);
    const { promotionId } = JSON.parse(started.stdout);
    await eventually(
      async () =>
        (await store.getPromotion(promotionId))?.status === 'AWAITING_APPROVAL' ? true : undefined,
      'the promotion to ask for approval',
    );
    return promotionId as string;
  }

  it('rejected before production: it stops there, and no production deployment starts', async () => {
    const id = await promote('public.ecr.aws/nginx/nginx:1.30');

    const reject = await cli(['reject', id, '--as', 'carol', '--comment', 'not this week']);

    expect(reject).toEqual({
      code: 0,
      stdout: `promotion ${id} rejected by carol for production: it stops\n`,
      stderr: '',
    });
    await cloud.runner.idle();
    expect(await store.getPromotion(id)).toMatchObject({
      status: 'STOPPED',
      approval: { decision: 'rejected', decidedBy: 'carol', environment: 'production' },
      stages: [
        {
          environment: 'production',
          status: 'NOT_APPROVED',
          detail: expect.stringContaining('rejected by carol'),
        },
      ],
    });
    const deployments = (await store.listDeployments('production', 'checkout', { limit: 20 })).items;
    expect(deployments.filter((d) => d.image === 'public.ecr.aws/nginx/nginx:1.30')).toEqual([]);
  });

  it('approved: production deploys it (approved again before its traffic moves) and the promotion links that deployment', async () => {
    const id = await promote('public.ecr.aws/nginx/nginx:1.31');

    expect((await cli(['approve', id, '--as', 'dave'])).code).toBe(0);
    const deployment = await awaitingApproval();
    expect((await cli(['approve', deployment.deploymentId, '--as', 'dave'])).code).toBe(0);
    await cloud.runner.idle();

    expect(deployment).toMatchObject({ promotionId: id, image: 'public.ecr.aws/nginx/nginx:1.31' });
    expect(await store.getPromotion(id)).toMatchObject({
      status: 'SUCCEEDED',
      stages: [{ environment: 'production', status: 'SUCCEEDED', deploymentId: deployment.deploymentId }],
    });
    expect((await store.getDeployment(deployment.deploymentId))?.status).toBe('SUCCEEDED');
  });
});
