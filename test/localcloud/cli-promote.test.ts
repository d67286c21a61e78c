/**
 * envctl promote in the local cloud. A promotion runs in the stack of its last environment and starts the
 * deployments of environments in that stack's account and region, so the config here puts all three there. The
 * local cloud holds one environment, development, whose stack stands in for production's as the promotion's home:
 * its promotion state machine starts development's deployment for real; staging and production have no state
 * machines in this cloud.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LocalBackend } from '../../cli/backends/local';
import { DeploymentStore } from '../../lambdas/adapters/deployment-store';
import type { ProjectConfig } from '../../lambdas/domain/config';
import { loadConfigFile } from '../../lib/config/load';
import { LocalCloud } from '../../localcloud';
import { cliWith, lines, type Cli } from './support/cli';
import { deploymentRecords, readPercentilesAsMaximum, serviceOf, traffic } from './support/world';

jest.setTimeout(90_000);

const sample = loadConfigFile();
const config: ProjectConfig = {
  ...sample,
  environments: sample.environments.map((e) => ({ ...e, account: '111111111111', region: 'eu-west-1' })),
};

let dir: string;
let configFile: string;
let cloud: LocalCloud;
let cli: Cli;
let store: DeploymentStore;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'envctl-promote-'));
  configFile = path.join(dir, 'environments.json');
  writeFileSync(configFile, JSON.stringify(config));
  cloud = await LocalCloud.start({ config, environment: 'development', logLevel: 'SILENT' });
  readPercentilesAsMaximum(cloud);
  cli = cliWith(new LocalBackend(cloud, { pollMs: 20, standsInFor: ['staging', 'production'] }));
  store = new DeploymentStore(cloud.clients.dynamodb, cloud.deps.tableName);
});
afterAll(async () => {
  await cloud?.stop();
  rmSync(dir, { recursive: true, force: true });
});
afterEach(async () => cloud.runner.idle());

const through = ['--through', 'development,staging,production'];

describe('envctl promote', () => {
  it('stops at the first rollback and never reaches staging or production', async () => {
    // Given a release whose candidate fails 30 % of its requests (development's stable slot is blue)
    const load = traffic(cloud, serviceOf(cloud), { blue: 0, green: 0.3 });

    const run = await cli([
      '--config',
      configFile,
      'promote',
      'checkout',
      '--image',
      'public.ecr.aws/nginx/nginx:1.28',
      ...through,
    ]);
    load.stop();

    expect(run.code).toBe(2);
    const [promotionId] = /production-promotion-checkout-\S+/.exec(run.stdout)!;
    const promotion = (await store.getPromotion(promotionId))!;
    const deploymentId = promotion.stages[0]!.deploymentId!;
    expect(promotion).toMatchObject({
      status: 'STOPPED',
      stages: [
        { environment: 'development', strategy: 'rolling', status: 'ROLLED_BACK' },
        { environment: 'staging', status: 'SKIPPED' },
        { environment: 'production', status: 'SKIPPED' },
      ],
    });
    expect(promotion.stages[1]!.deploymentId).toBeUndefined();
    expect(promotion.stages[2]!.deploymentId).toBeUndefined();
    expect(promotion.approval).toBeUndefined(); // production's approval was never asked for

    // The one deployment is development's, linked to the promotion and rolled back
    expect(await deploymentRecords(cloud)).toEqual([
      expect.objectContaining({
        deploymentId,
        environment: 'development',
        promotionId,
        status: 'ROLLED_BACK',
      }),
    ]);
    expect(lines(run.stderr).at(-1)).toMatch(
      new RegExp(
        `^error: promotion ${promotionId} ended STOPPED at development: deployment ${deploymentId} ended ROLLED_BACK \\(trigger health-check-failure\\): error rate 30% over 5%`,
      ),
    );
    expect(promotion.stages[0]!.detail).toMatch(
      new RegExp(`^deployment ${deploymentId} in development ended ROLLED_BACK`),
    );
    expect(run.stderr).toMatch(
      /IN_PROGRESS +development DEPLOYING → staging PENDING → production PENDING +\| development: /,
    );
    expect(lines(run.stdout).slice(-4)).toEqual([
      expect.stringMatching(/^ +ENVIRONMENT +STRATEGY +STATUS +DEPLOYMENT +DETAIL$/),
      expect.stringMatching(
        new RegExp(`^ +development +rolling +ROLLED_BACK +${deploymentId} +health-check-failure: error rate`),
      ),
      expect.stringMatching(/^ +staging +canary +SKIPPED +-$/),
      expect.stringMatching(/^ +production +canary +SKIPPED +-$/),
    ]);
  });

  it('goes on to the next environment only after a deployment SUCCEEDED', async () => {
    const load = traffic(cloud, serviceOf(cloud), { blue: 0, green: 0 });

    const run = await cli([
      '--config',
      configFile,
      'promote',
      'checkout',
      '--image',
      'public.ecr.aws/nginx/nginx:1.29',
      ...through,
      '--json',
    ]);
    load.stop();

    // Development SUCCEEDED; staging's state machine is not in this one-environment cloud, so its start fails
    // and the promotion stops there, before production.
    expect(run.code).toBe(2);
    const { record } = JSON.parse(run.stdout);
    expect(record).toMatchObject({
      status: 'STOPPED',
      stages: [
        { environment: 'development', status: 'SUCCEEDED' },
        {
          environment: 'staging',
          status: 'FAILED',
          detail: expect.stringContaining('StateMachineDoesNotExist'),
        },
        { environment: 'production', status: 'SKIPPED' },
      ],
    });
  });
});
