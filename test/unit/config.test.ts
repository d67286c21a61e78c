import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  approvalRequired,
  ConfigError,
  findEnvironment,
  findService,
  parseProjectConfig,
  type ProjectConfig,
} from '../../lambdas/domain/config';
import { DEFAULT_CONFIG_FILE, loadConfigFile } from '../../lib/config/load';

const FILE = 'config/environments.json';

/** The sample config as it is on disk, before validation: each bad case below is one mutation of it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Raw = any;
const sample = (): Raw => JSON.parse(readFileSync(DEFAULT_CONFIG_FILE, 'utf8'));

// environments[1] is staging, environments[2] production; services[0] is checkout, services[1] catalog.
const STAGING_CHECKOUT = `${FILE}: environment "staging", service "checkout"`;

function messageOf(act: () => unknown): string {
  try {
    act();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).message;
  }
  throw new Error('expected a ConfigError, but the config was accepted');
}

describe('the sample config', () => {
  it('loads and validates', () => {
    // Act
    const config = loadConfigFile(DEFAULT_CONFIG_FILE);

    // Assess
    expect(config.project).toBe('EnvironmentController');
    expect(config.environments.map((e) => [e.name, e.type])).toEqual([
      ['development', 'development'],
      ['staging', 'staging'],
      ['production', 'production'],
    ]);
    for (const env of config.environments)
      expect(env.services.map((s) => s.name)).toEqual(['checkout', 'catalog']);
  });

  it('gives each environment its own strategy defaults', () => {
    // Act
    const config = loadConfigFile(DEFAULT_CONFIG_FILE);
    const strategy = (env: string, svc: string) => service(config, env, svc).deployment.strategy;

    // Assess
    expect(strategy('development', 'checkout')).toBe('rolling');
    expect(strategy('staging', 'checkout')).toBe('canary');
    expect(strategy('production', 'checkout')).toBe('canary');
    expect(service(config, 'production', 'checkout').deployment.canarySteps).toEqual([5, 25, 50, 100]);
  });

  it('requires approval in production only, unless a service says otherwise', () => {
    // Prepare
    const raw = sample();
    raw.environments[2].services[1].deployment.approvalRequired = false;
    raw.environments[1].services[1].deployment.approvalRequired = true;

    // Act
    const config = parseProjectConfig(raw, FILE);
    const required = (env: string, svc: string) =>
      approvalRequired(findEnvironment(config, env)!, service(config, env, svc));

    // Assess
    expect(required('development', 'checkout')).toBe(false);
    expect(required('staging', 'checkout')).toBe(false);
    expect(required('production', 'checkout')).toBe(true);
    expect(required('production', 'catalog')).toBe(false);
    expect(required('staging', 'catalog')).toBe(true);
  });

  it('fills in the defaults of every field the file leaves out', () => {
    // Act
    const config = loadConfigFile(DEFAULT_CONFIG_FILE);
    const catalog = service(config, 'staging', 'catalog');

    // Assess
    expect(catalog.deployment).toEqual({
      strategy: 'canary',
      canarySteps: [25, 100],
      rollingStepPercent: 25,
      bakeSeconds: 180,
      healthCheckIntervalSeconds: 60,
      terminationWaitSeconds: 300,
      steadyTimeoutSeconds: 600,
      approvalTimeoutSeconds: 3600,
    });
    expect(catalog.health).toEqual({
      maxErrorRatePercent: 5,
      latencyPercentile: 'p99',
      maxLatencyMs: 1000,
      maxUnhealthyHosts: 0,
      minimumSamples: 50,
      missingData: 'wait',
      maxUnknownChecks: 5,
      maxDegradedChecks: 3,
    });
    expect(catalog.alarms).toEqual({
      errorRate: true,
      latency: true,
      unhealthyHosts: true,
      tuning: {
        periodSeconds: 60,
        evaluationPeriods: 3,
        datapointsToAlarm: 2,
        treatMissingData: 'notBreaching',
      },
      extra: [],
    });
    expect(catalog.testListener).toBeUndefined();
    expect(findEnvironment(config, 'staging')!.rollback).toEqual({
      automatic: true,
      triggers: ['alarm', 'health-check-failure', 'performance-degradation', 'deployment-failure', 'timeout'],
      verify: true,
      timeoutSeconds: 300,
      deploymentTimeoutSeconds: 7200,
    });
    expect(findEnvironment(config, 'production')!.rollback.deploymentTimeoutSeconds).toBe(10800);
  });
});

describe('a bad config', () => {
  it.each<[string, (c: Raw) => void, string]>([
    [
      'an unknown strategy',
      (c) => (c.environments[1].services[0].deployment.strategy = 'big-bang'),
      `${STAGING_CHECKOUT}, field deployment.strategy: must be one of "blue-green", "canary", "rolling"`,
    ],
    [
      'a canary step over 100',
      (c) => (c.environments[1].services[0].deployment.canarySteps = [10, 150]),
      `${STAGING_CHECKOUT}, field deployment.canarySteps[1]: must be at most 100 (and 1 more)`,
    ],
    [
      'canary steps that do not increase',
      (c) => (c.environments[1].services[0].deployment.canarySteps = [50, 10, 100]),
      `${STAGING_CHECKOUT}, field deployment.canarySteps[1]: steps must increase (50 then 10)`,
    ],
    [
      'canary steps that stop short of 100',
      (c) => (c.environments[1].services[0].deployment.canarySteps = [10, 50]),
      `${STAGING_CHECKOUT}, field deployment.canarySteps: the last step must be 100`,
    ],
    [
      'a canary step of 0',
      (c) => (c.environments[1].services[0].deployment.canarySteps = [0, 100]),
      `${STAGING_CHECKOUT}, field deployment.canarySteps[0]: must be at least 1`,
    ],
    [
      'a negative bake time',
      (c) => (c.environments[1].services[0].deployment.bakeSeconds = -1),
      `${STAGING_CHECKOUT}, field deployment.bakeSeconds: must not be negative`,
    ],
    [
      'a bake time given as a string',
      (c) => (c.environments[1].services[0].deployment.bakeSeconds = '300'),
      `${STAGING_CHECKOUT}, field deployment.bakeSeconds: must be a number, not the string "300"`,
    ],
    [
      'a fractional bake time',
      (c) => (c.environments[1].services[0].deployment.bakeSeconds = 1.5),
      `${STAGING_CHECKOUT}, field deployment.bakeSeconds: must be a whole number of seconds`,
    ],
    [
      'a missing listener',
      (c) => delete c.environments[1].services[0].listener,
      `${STAGING_CHECKOUT}, field listener: is missing (expected an object)`,
    ],
    [
      'a listener ARN that is a target group ARN',
      (c) => (c.environments[1].services[0].listener.arn = c.environments[1].services[0].targetGroups.blue),
      `${STAGING_CHECKOUT}, field listener.arn: must be an ALB listener ARN`,
    ],
    [
      'a duplicate service',
      (c) => (c.environments[1].services[1].name = 'checkout'),
      `${FILE}: environment "staging", service "checkout", field name: duplicate service "checkout"`,
    ],
    [
      'a duplicate environment',
      (c) => (c.environments[2].name = 'staging'),
      `${FILE}: environment "staging", field name: duplicate environment "staging"`,
    ],
    [
      'an unknown field in a service',
      (c) => (c.environments[1].services[0].deployment.bakeSecs = 60),
      `${STAGING_CHECKOUT}, field deployment.bakeSecs: unknown field`,
    ],
    [
      'an unknown field in an environment',
      (c) => (c.environments[1].strategy = 'canary'),
      `${FILE}: environment "staging", field strategy: unknown field`,
    ],
    [
      'an unknown field at the top level',
      (c) => (c.environment = []),
      `${FILE}: field environment: unknown field`,
    ],
    [
      'a bad target group ARN',
      (c) => (c.environments[1].services[0].targetGroups.green = 'arn:aws:s3:::checkout-green'),
      `${STAGING_CHECKOUT}, field targetGroups.green: must be a target group ARN`,
    ],
    [
      'the same target group in both slots',
      (c) =>
        (c.environments[1].services[0].targetGroups.green = c.environments[1].services[0].targetGroups.blue),
      `${STAGING_CHECKOUT}, field targetGroups.green: the two slots must be different target groups`,
    ],
    [
      'datapointsToAlarm over evaluationPeriods',
      (c) => (c.environments[2].services[0].alarms.tuning.datapointsToAlarm = 4),
      `${FILE}: environment "production", service "checkout", field alarms.tuning.datapointsToAlarm: datapointsToAlarm must not exceed evaluationPeriods`,
    ],
    [
      'an extra alarm with an empty name',
      (c) => (c.environments[2].services[0].alarms.extra[0].alarmName = ''),
      `${FILE}: environment "production", service "checkout", field alarms.extra[0].alarmName: must not be empty`,
    ],
    [
      'an unknown environment type',
      (c) => (c.environments[1].type = 'qa'),
      `${FILE}: environment "staging", field type: must be one of "development", "staging", "production"`,
    ],
    [
      'an unknown rollback trigger',
      (c) => (c.environments[1].rollback = { triggers: ['alarm', 'meteor'] }),
      `${FILE}: environment "staging", field rollback.triggers[1]: must be one of "alarm", "health-check-failure", "performance-degradation", "deployment-failure", "timeout", "manual"`,
    ],
    [
      'an environment without services',
      (c) => (c.environments[0].services = []),
      `${FILE}: environment "development", field services: needs at least one service`,
    ],
    [
      'a service without a name',
      (c) => delete c.environments[1].services[1].name,
      `${FILE}: environment "staging", service #2, field name: is missing (expected a string)`,
    ],
  ])('with %s is rejected naming the file, environment, service and field', (_case, mutate, message) => {
    // Prepare
    const raw = sample();
    mutate(raw);

    // Act
    const actual = messageOf(() => parseProjectConfig(raw, FILE));

    // Assess
    expect(actual).toBe(message);
  });

  it('lists every issue, not only the first', () => {
    // Prepare
    const raw = sample();
    raw.environments[1].services[0].deployment.canarySteps = [10, 150];
    raw.environments[2].services[1].deployment.bakeSeconds = -5;

    // Act
    let error: ConfigError | undefined;
    try {
      parseProjectConfig(raw, FILE);
    } catch (err) {
      error = err as ConfigError;
    }

    // Assess
    expect(error?.issues).toEqual([
      'environment "staging", service "checkout", field deployment.canarySteps[1]: must be at most 100',
      'environment "staging", service "checkout", field deployment.canarySteps: the last step must be 100',
      'environment "production", service "catalog", field deployment.bakeSeconds: must not be negative',
    ]);
    expect(error?.message).toBe(
      `${STAGING_CHECKOUT}, field deployment.canarySteps[1]: must be at most 100 (and 2 more)`,
    );
  });
});

describe('loading a config file', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'envctl-config-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads and validates a good file', () => {
    // Prepare
    const file = path.join(dir, 'environments.json');
    writeFileSync(file, JSON.stringify(sample()));

    // Act
    const config = loadConfigFile(file);

    // Assess
    expect(config.environments).toHaveLength(3);
  });

  it('rejects a file that is not JSON, naming the file and the place', () => {
    // Prepare
    const file = path.join(dir, 'environments.json');
    writeFileSync(file, '{\n  "environments": [],\n}\n');

    // Act
    const message = messageOf(() => loadConfigFile(file));

    // Assess
    expect(message).toBe(
      `${file}: not valid JSON (Expected double-quoted property name in JSON at position 24 (line 3 column 1))`,
    );
  });

  it('rejects a missing file, naming the file', () => {
    // Prepare
    const file = path.join(dir, 'nowhere.json');

    // Act
    const message = messageOf(() => loadConfigFile(file));

    // Assess
    expect(message).toBe(`${file}: cannot read the config file: no such file`);
  });

  it('rejects a bad config in a file, naming the file, environment, service and field', () => {
    // Prepare
    const file = path.join(dir, 'environments.json');
    const raw = sample();
    raw.environments[2].services[1].deployment.strategy = 'all-at-once';
    writeFileSync(file, JSON.stringify(raw, null, 2));

    // Act
    const message = messageOf(() => loadConfigFile(file));

    // Assess
    expect(message).toBe(
      `${file}: environment "production", service "catalog", field deployment.strategy: must be one of "blue-green", "canary", "rolling"`,
    );
  });

  it('names the file relative to the working directory when it lies under it', () => {
    // Act
    const message = messageOf(() =>
      loadConfigFile(path.join(process.cwd(), 'no-such-dir', 'environments.json')),
    );

    // Assess
    expect(message).toBe(
      `${path.join('no-such-dir', 'environments.json')}: cannot read the config file: no such file`,
    );
  });
});

function service(config: ProjectConfig, env: string, name: string) {
  const found = findService(findEnvironment(config, env)!, name);
  if (!found) throw new Error(`no service ${name} in ${env}`);
  return found;
}
