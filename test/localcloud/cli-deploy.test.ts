/**
 * envctl deploy, status, history and rollback against one local cloud of staging: the commands run in-process as
 * a user runs them, the real state machines and handlers behind them; traffic() makes the candidate healthy or
 * bad.
 */
import { ListExecutionsCommand } from '@aws-sdk/client-sfn';
import { LocalBackend } from '../../cli/backends/local';
import { DeploymentStore } from '../../lambdas/adapters/deployment-store';
import { otherSlot } from '../../lambdas/domain/records';
import { LocalCloud } from '../../localcloud';
import { cliWith, lines, type Cli } from './support/cli';
import { eventually, readPercentilesAsMaximum, serviceOf, traffic } from './support/world';

jest.setTimeout(90_000);

let cloud: LocalCloud;
let cli: Cli;
let store: DeploymentStore;

beforeAll(async () => {
  cloud = await LocalCloud.start({ environment: 'staging', logLevel: 'SILENT' });
  readPercentilesAsMaximum(cloud);
  cli = cliWith(new LocalBackend(cloud, { pollMs: 20 }));
  store = new DeploymentStore(cloud.clients.dynamodb, cloud.deps.tableName);
});
afterAll(async () => cloud?.stop());

/** Steady traffic with the error rate of the next candidate's slot; the stable slot answers well. */
async function trafficWithCandidateErrors(rate: number) {
  const state = await store.getServiceState('staging', 'checkout');
  const candidate = otherSlot(state?.stable?.slot ?? 'blue');
  return traffic(cloud, serviceOf(cloud), { blue: 0, green: 0, [candidate]: rate } as never);
}

/** Every execution of the environment's deployment state machines, as moto holds them. */
async function executionCount(): Promise<number> {
  let count = 0;
  for (const sm of cloud.controller.stateMachines) {
    const out = await cloud.clients.sfn.send(new ListExecutionsCommand({ stateMachineArn: sm.arn }));
    count += out.executions?.length ?? 0;
  }
  return count;
}

const ids: string[] = [];

describe('envctl deploy', () => {
  it('a healthy release ends SUCCEEDED with exit code 0, showing its progress on stderr', async () => {
    const load = await trafficWithCandidateErrors(0);
    const run = await cli([
      'deploy',
      'staging',
      'checkout',
      '--image',
      'public.ecr.aws/nginx/nginx:1.28',
      '--bake',
      '60',
    ]);
    load.stop();
    await cloud.runner.idle(); // the termination wait and the old task set's removal

    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      /^Deployment +staging-checkout-\d{8}t\d{6}z-[0-9a-f]{4}\nOutcome +SUCCEEDED\n/,
    );
    expect(run.stdout).toContain(
      'canary of checkout in staging: public.ecr.aws/nginx/nginx:1.28 over public.ecr.aws/nginx/nginx:1.27',
    );
    const progress = lines(run.stderr);
    expect(progress[0]).toMatch(
      /^canary deployment staging-checkout-\S+ of public.ecr.aws\/nginx\/nginx:1.28 started$/,
    );
    for (const step of [
      'step 1/3 (10%)  traffic stable 90% candidate 10%',
      'step 3/3 (100%)  traffic stable 0% candidate 100%',
    ])
      expect(progress.some((l) => l.includes(step))).toBe(true);
    expect(progress.some((l) => /verdict healthy: /.test(l))).toBe(true);
    ids.push(run.stdout.split('\n')[0]!.split(/ +/)[1]!);
  });

  it('a bad release ends ROLLED_BACK with exit code 2 and one line that says why', async () => {
    const load = await trafficWithCandidateErrors(0.3);
    const run = await cli([
      'deploy',
      'staging',
      'checkout',
      '--image',
      'public.ecr.aws/nginx/nginx:1.29',
      '--bake',
      '60',
      '--json',
    ]);
    load.stop();
    await cloud.runner.idle();

    expect(run.code).toBe(2);
    const result = JSON.parse(run.stdout);
    expect(result).toMatchObject({ outcome: 'ROLLED_BACK', trigger: 'health-check-failure' });
    expect(result.record.weights).toEqual({ stable: 100, candidate: 0 });
    expect(lines(run.stderr).at(-1)).toMatch(
      new RegExp(
        `^error: deployment ${result.deploymentId} ended ROLLED_BACK \\(trigger health-check-failure\\): .*error rate`,
      ),
    );
    ids.push(result.deploymentId);
  });

  it('--no-wait returns at once with the deployment id; a second deployment meanwhile is REJECTED', async () => {
    const load = await trafficWithCandidateErrors(0);
    const first = await cli([
      'deploy',
      'staging',
      'checkout',
      '--image',
      'public.ecr.aws/nginx/nginx:1.30',
      '--bake',
      '60',
      '--no-wait',
      '--json',
    ]);
    expect(first.code).toBe(0);
    const started = JSON.parse(first.stdout);
    expect(started).toMatchObject({
      deploymentId: expect.stringMatching(/^staging-checkout-/),
      status: 'STARTED',
    });
    // Once its candidate is ready, the first holds the lock and simulated time has moved past its start.
    await eventually(
      async () =>
        (await store.getDeployment(started.deploymentId))?.timeline.find(
          (e) => e.event === 'candidate-ready',
        ),
      'the first deployment to have its candidate ready',
    );

    const second = await cli([
      'deploy',
      'staging',
      'checkout',
      '--image',
      'public.ecr.aws/nginx/nginx:1.31',
      '--json',
    ]);
    expect(second.code).toBe(2);
    expect(JSON.parse(second.stdout)).toMatchObject({ outcome: 'REJECTED' });

    expect((await cloud.runner.result(started.executionArn))?.status).toBe('SUCCEEDED');
    load.stop();
    await cloud.runner.idle();
    ids.push(started.deploymentId, JSON.parse(second.stdout).deploymentId);
  });
});

describe('envctl history', () => {
  it('lists the deployments newest first', async () => {
    const run = await cli(['history', 'staging', 'checkout', '--json']);
    expect(run.code).toBe(0);
    const items = JSON.parse(run.stdout) as { deploymentId: string; status: string }[];
    expect(items.map((d) => d.deploymentId)).toEqual([...ids].reverse());
    expect(items.map((d) => d.status)).toEqual(['REJECTED', 'SUCCEEDED', 'ROLLED_BACK', 'SUCCEEDED']);

    const text = await cli(['history', 'staging']);
    const rows = lines(text.stdout);
    expect(rows[0]).toMatch(/^STARTED +ID +SERVICE +STRATEGY +STATUS +TOOK +IMAGE +TRIGGER$/);
    expect(rows.slice(1).map((r) => r.split(/ +/)[2])).toEqual([...ids].reverse());
    expect(rows[3]).toMatch(/ROLLED_BACK .* public.ecr.aws\/nginx\/nginx:1.29 +health-check-failure$/);
  });

  it('--rollbacks lists the rollback of the bad release', async () => {
    const run = await cli(['history', 'staging', 'checkout', '--rollbacks', '--json']);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual([
      expect.objectContaining({ deploymentId: ids[1], trigger: 'health-check-failure', outcome: 'RESTORED' }),
    ]);
  });
});

describe('envctl status and rollback', () => {
  it('status shows the version serving, the traffic and the last deployment', async () => {
    const run = await cli(['status', 'staging', 'checkout', '--json']);
    expect(run.code).toBe(0);
    const [status] = JSON.parse(run.stdout);
    expect(status).toMatchObject({
      service: 'checkout',
      stable: { image: 'public.ecr.aws/nginx/nginx:1.30' },
      active: null,
      last: { deploymentId: ids[3], status: 'REJECTED' },
    });
    expect(status.weights[status.stable.slot]).toBe(100);
  });

  it('a rollback with nothing to roll back says so and exits 0', async () => {
    const run = await cli(['rollback', 'staging', 'checkout', '--reason', 'checking', '--as', 'alice']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^nothing to roll back: /);
  });
});

describe('a mistake in the arguments', () => {
  const image = ['--image', 'public.ecr.aws/nginx/nginx:1.40'];
  it.each<[string, string[], RegExp]>([
    [
      'an image that is not one',
      ['deploy', 'staging', 'checkout', '--image', 'nginx latest'],
      /^error: invalid input: .*image/,
    ],
    [
      'no --image',
      ['deploy', 'staging', 'checkout'],
      /^error: required option '--image <ref>' not specified$/,
    ],
    [
      'an unknown environment',
      ['deploy', 'stagin', 'checkout', ...image],
      /^error: no environment "stagin" in the config \(environments: development, staging, production\)$/,
    ],
    [
      'an unknown service',
      ['deploy', 'staging', 'payments', ...image],
      /^error: no service "payments" in staging \(services: checkout, catalog\)$/,
    ],
    [
      'an unknown strategy',
      ['deploy', 'staging', 'checkout', ...image, '--strategy', 'big-bang'],
      /^error: option '--strategy <strategy>' argument 'big-bang' is invalid/,
    ],
    [
      'canary steps for a rolling deployment',
      ['deploy', 'staging', 'checkout', ...image, '--strategy', 'rolling', '--steps', '10,100'],
      /strategyOptions\.steps applies only to canary, not rolling$/,
    ],
    [
      'steps that go down',
      ['deploy', 'staging', 'checkout', ...image, '--steps', '50,10,100'],
      /^error: invalid input: .*strategyOptions\.steps/,
    ],
    [
      'a bake that is not a number',
      ['deploy', 'staging', 'checkout', ...image, '--bake', 'soon'],
      /^error: --bake must be a whole number, not "soon"$/,
    ],
    [
      'a rollback without a reason',
      ['rollback', 'staging', 'checkout'],
      /^error: required option '--reason <text>' not specified$/,
    ],
    [
      'a history limit of 0',
      ['history', 'staging', '--limit', '0'],
      /^error: --limit must be at least 1, not "0"$/,
    ],
    [
      'an id of no environment',
      ['approve', 'nothing-known'],
      /^error: cannot tell the environment of nothing-known from its id: give --env$/,
    ],
    [
      'a promotion through one environment twice',
      ['promote', 'checkout', ...image, '--through', 'staging,staging'],
      /^error: --through names staging twice$/,
    ],
    [
      'a promotion across accounts',
      ['promote', 'checkout', ...image],
      /^error: a promotion runs in the stack of production \(account 333333333333, eu-west-1\)/,
    ],
  ])('(%s) prints one line, exits 1 and starts nothing', async (_case, args, message) => {
    const before = await executionCount();
    const requests = cli.requests.length;

    const run = await cli(args);

    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(lines(run.stderr)).toHaveLength(1);
    expect(lines(run.stderr)[0]).toMatch(message);
    expect(cli.requests.length).toBe(requests);
    expect(await executionCount()).toBe(before);
  });
});
