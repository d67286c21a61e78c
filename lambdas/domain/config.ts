/**
 * The configuration model: one zod schema that types the CDK app, the Lambdas and the CLI alike.
 * Pure: no AWS SDK, no file system. Loading a file lives in `lib/config/load.ts`.
 */
import * as z from 'zod';

export const ENVIRONMENT_TYPES = ['development', 'staging', 'production'] as const;
export const EnvironmentType = z.enum(ENVIRONMENT_TYPES);
export type EnvironmentType = z.infer<typeof EnvironmentType>;

export const HEALTH_STATUSES = ['healthy', 'degraded', 'unhealthy', 'unknown'] as const;
export const HealthStatus = z.enum(HEALTH_STATUSES);
export type HealthStatus = z.infer<typeof HealthStatus>;

export const ROLLBACK_TRIGGERS = [
  'alarm',
  'health-check-failure',
  'performance-degradation',
  'deployment-failure',
  'timeout',
  'manual',
] as const;
export const RollbackTrigger = z.enum(ROLLBACK_TRIGGERS);
export type RollbackTrigger = z.infer<typeof RollbackTrigger>;

export const STRATEGIES = ['blue-green', 'canary', 'rolling'] as const;
export const Strategy = z.enum(STRATEGIES);
export type Strategy = z.infer<typeof Strategy>;

const name = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,39}$/, 'must be lower-case letters, digits and dashes, starting with a letter');
const seconds = z.number().int('must be a whole number of seconds').min(0, 'must not be negative');
const percent = z
  .number()
  .int('must be a whole percent')
  .min(1, 'must be at least 1')
  .max(100, 'must be at most 100');

const listenerArn = z
  .string()
  .regex(
    /^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:listener\/app\/[^/]+\/[^/]+\/[^/]+$/,
    'must be an ALB listener ARN',
  );
const listenerRuleArn = z
  .string()
  .regex(
    /^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:listener-rule\/app\/[^/]+\/[^/]+\/[^/]+\/[^/]+$/,
    'must be an ALB listener rule ARN',
  );
const targetGroupArn = z
  .string()
  .regex(
    /^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:targetgroup\/[^/]+\/[^/]+$/,
    'must be a target group ARN',
  );

/** Canary steps: whole percents, strictly increasing, ending at 100. */
export const CanarySteps = z
  .array(percent)
  .min(1, 'needs at least one step')
  .superRefine((steps, ctx) => {
    for (let i = 1; i < steps.length; i++) {
      if (steps[i]! <= steps[i - 1]!) {
        ctx.addIssue({
          code: 'custom',
          path: [i],
          message: `steps must increase (${steps[i - 1]} then ${steps[i]})`,
        });
      }
    }
    if (steps.at(-1) !== 100) ctx.addIssue({ code: 'custom', message: 'the last step must be 100' });
  });

export const DeploymentConfig = z
  .strictObject({
    /** The strategy used when an execution or the CLI names none. @default 'canary' */
    strategy: Strategy.default('canary'),
    /** Canary: traffic percents in order. @default [10, 50, 100] */
    canarySteps: CanarySteps.default([10, 50, 100]),
    /** Rolling: percent of traffic moved per step. @default 25 */
    rollingStepPercent: percent.default(25),
    /** Bake time under the health gate after each traffic step. @default 300 */
    bakeSeconds: seconds.default(300),
    /** Interval between health-gate evaluations during a bake. @default 60 */
    healthCheckIntervalSeconds: seconds.min(10, 'must be at least 10').default(60),
    /** How long the old task set is kept after success, for a quick manual rollback. @default 300 */
    terminationWaitSeconds: seconds.default(300),
    /** Deadline for the candidate task set to become steady with healthy targets. @default 600 */
    steadyTimeoutSeconds: seconds.min(30, 'must be at least 30').default(600),
    /** Whether a person must approve before production traffic moves. @default true in production, false elsewhere */
    approvalRequired: z.boolean().optional(),
    /** No decision within this time means reject and roll back. @default 3600 */
    approvalTimeoutSeconds: seconds.min(60, 'must be at least 60').default(3600),
  })
  .prefault({});
export type DeploymentConfig = z.infer<typeof DeploymentConfig>;

export const HealthThresholds = z
  .strictObject({
    /** Maximum 5xx responses as a percent of requests on the candidate. @default 5 */
    maxErrorRatePercent: z.number().min(0, 'must not be negative').max(100, 'must be at most 100').default(5),
    /** The latency statistic judged. @default 'p99' */
    latencyPercentile: z.enum(['p50', 'p90', 'p95', 'p99']).default('p99'),
    /** Maximum target response time at that percentile, in milliseconds. @default 1000 */
    maxLatencyMs: z.number().positive('must be positive').default(1000),
    /** Maximum unhealthy hosts in the candidate target group. @default 0 */
    maxUnhealthyHosts: z.number().int().min(0, 'must not be negative').default(0),
    /** Fewer requests than this in the window make the verdict unknown. @default 50 */
    minimumSamples: z.number().int().min(1, 'must be at least 1').default(50),
    /** What an unknown verdict means: fail the gate, or wait for more data. @default 'wait' */
    missingData: z.enum(['fail', 'wait']).default('wait'),
    /** Unknown verdicts in a row that `wait` tolerates before failing. @default 5 */
    maxUnknownChecks: z.number().int().min(1).default(5),
    /** A degraded verdict (over the warning ratio of a threshold) in a row this often fails the gate. @default 3 */
    maxDegradedChecks: z.number().int().min(1).default(3),
  })
  .prefault({});
export type HealthThresholds = z.infer<typeof HealthThresholds>;

const alarmDefaults = {
  periodSeconds: 60,
  evaluationPeriods: 3,
  datapointsToAlarm: 2,
  treatMissingData: 'notBreaching',
} as const;

export const AlarmTuning = z
  .strictObject({
    /** Seconds per datapoint. @default 60 */
    periodSeconds: z
      .union([z.literal(10), z.literal(30), z.literal(60), z.literal(300)])
      .default(alarmDefaults.periodSeconds),
    /** Datapoints considered. @default 3 */
    evaluationPeriods: z.number().int().min(1).max(10).default(alarmDefaults.evaluationPeriods),
    /** Breaching datapoints among them that fire the alarm. @default 2 */
    datapointsToAlarm: z.number().int().min(1).max(10).default(alarmDefaults.datapointsToAlarm),
    /** @default 'notBreaching' */
    treatMissingData: z
      .enum(['breaching', 'notBreaching', 'ignore', 'missing'])
      .default(alarmDefaults.treatMissingData),
  })
  .refine((a) => a.datapointsToAlarm <= a.evaluationPeriods, {
    message: 'datapointsToAlarm must not exceed evaluationPeriods',
    path: ['datapointsToAlarm'],
  });

export const ExtraAlarm = z.union([
  z.strictObject({
    /** An alarm that already exists in the account, watched by name. */
    alarmName: z.string().min(1),
  }),
  z.strictObject({
    /** A metric alarm created by the stack. */
    name: name,
    namespace: z.string().min(1),
    metricName: z.string().min(1),
    dimensions: z.record(z.string(), z.string()).default({}),
    statistic: z.enum(['Sum', 'Average', 'Maximum', 'Minimum', 'SampleCount']).default('Average'),
    threshold: z.number(),
    comparison: z.enum([
      'GreaterThanThreshold',
      'GreaterThanOrEqualToThreshold',
      'LessThanThreshold',
      'LessThanOrEqualToThreshold',
    ]),
  }),
]);

export const AlarmsConfig = z
  .strictObject({
    /** Alarm on the candidate's 5xx rate over `health.maxErrorRatePercent`. @default true */
    errorRate: z.boolean().default(true),
    /** Alarm on the candidate's latency percentile over `health.maxLatencyMs`. @default true */
    latency: z.boolean().default(true),
    /** Alarm on unhealthy hosts over `health.maxUnhealthyHosts`. @default true */
    unhealthyHosts: z.boolean().default(true),
    tuning: AlarmTuning.prefault({}),
    extra: z.array(ExtraAlarm).default([]),
  })
  .prefault({});

export const ServiceConfig = z.strictObject({
  /** The service's name in this project: used in execution input, the CLI and the table. */
  name,
  /** ECS cluster name. */
  cluster: z.string().min(1),
  /** ECS service name (deployment controller EXTERNAL). */
  ecsService: z.string().min(1),
  /** The container whose image a deployment replaces. */
  containerName: z.string().min(1),
  /** The container port registered to the target groups. */
  containerPort: z.number().int().min(1).max(65535),
  /** The production listener, or a rule on it, whose forward action spans the two target groups. */
  listener: z.strictObject({ arn: listenerArn, ruleArn: listenerRuleArn.optional() }),
  /** An optional test listener for checking a blue-green candidate before it takes production traffic. */
  testListener: z.strictObject({ arn: listenerArn }).optional(),
  /** The two slots. */
  targetGroups: z.strictObject({ blue: targetGroupArn, green: targetGroupArn }),
  deployment: DeploymentConfig,
  health: HealthThresholds,
  alarms: AlarmsConfig,
});
export type ServiceConfig = z.infer<typeof ServiceConfig>;

export const RollbackConfig = z
  .strictObject({
    /** Roll back automatically when a trigger fires. @default true */
    automatic: z.boolean().default(true),
    /** The triggers that roll back automatically. @default all but manual, which is always allowed */
    triggers: z
      .array(RollbackTrigger)
      .default(['alarm', 'health-check-failure', 'performance-degradation', 'deployment-failure', 'timeout']),
    /** Check after a rollback that traffic is 100 % stable and the candidate is gone. @default true */
    verify: z.boolean().default(true),
    /** A rollback not complete in this time is FAILED and pages someone. @default 300 */
    timeoutSeconds: seconds.min(30, 'must be at least 30').default(300),
    /** A whole deployment execution's timeout. @default 7200 */
    deploymentTimeoutSeconds: seconds.min(300, 'must be at least 300').default(7200),
  })
  .prefault({});
export type RollbackConfig = z.infer<typeof RollbackConfig>;

export const EnvironmentConfig = z
  .strictObject({
    name,
    type: EnvironmentType,
    /** The AWS account and region the environment's stack deploys to. */
    account: z.string().regex(/^\d{12}$/, 'must be a 12-digit account id'),
    region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must be an AWS region such as eu-west-1'),
    rollback: RollbackConfig,
    services: z.array(ServiceConfig).min(1, 'needs at least one service'),
  })
  .superRefine((env, ctx) => {
    const seen = new Set<string>();
    env.services.forEach((s, i) => {
      if (seen.has(s.name))
        ctx.addIssue({
          code: 'custom',
          path: ['services', i, 'name'],
          message: `duplicate service "${s.name}"`,
        });
      seen.add(s.name);
      if (s.targetGroups.blue === s.targetGroups.green) {
        ctx.addIssue({
          code: 'custom',
          path: ['services', i, 'targetGroups', 'green'],
          message: 'the two slots must be different target groups',
        });
      }
    });
  });
export type EnvironmentConfig = z.infer<typeof EnvironmentConfig>;

export const ProjectConfig = z
  .strictObject({
    /** Prefix of stack and resource names. @default 'EnvironmentController' */
    project: z
      .string()
      .regex(/^[A-Za-z][A-Za-z0-9]{0,30}$/)
      .default('EnvironmentController'),
    environments: z.array(EnvironmentConfig).min(1, 'needs at least one environment'),
  })
  .superRefine((cfg, ctx) => {
    const seen = new Set<string>();
    cfg.environments.forEach((e, i) => {
      if (seen.has(e.name))
        ctx.addIssue({
          code: 'custom',
          path: ['environments', i, 'name'],
          message: `duplicate environment "${e.name}"`,
        });
      seen.add(e.name);
    });
  });
export type ProjectConfig = z.infer<typeof ProjectConfig>;
export type ProjectConfigInput = z.input<typeof ProjectConfig>;

/** Whether a person must approve before production traffic moves in this environment. */
export function approvalRequired(env: Pick<EnvironmentConfig, 'type'>, service: ServiceConfig): boolean {
  return service.deployment.approvalRequired ?? env.type === 'production';
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    message: string,
    readonly issues: readonly string[],
  ) {
    super(message);
  }
}

/**
 * Describes a zod issue path in the terms a user knows: environment and service by name, then the field.
 * `environments.1.services.0.deployment.canarySteps.2` → `environment "staging", service "checkout", field deployment.canarySteps[2]`
 */
export function describePath(raw: unknown, path: readonly PropertyKey[]): string {
  const parts: string[] = [];
  let i = 0;
  let node: unknown = raw;
  const nameAt = (list: unknown, idx: unknown): string => {
    const item = Array.isArray(list) ? list[Number(idx)] : undefined;
    const n = item && typeof item === 'object' ? (item as { name?: unknown }).name : undefined;
    return typeof n === 'string' ? `"${n}"` : `#${Number(idx) + 1}`;
  };
  if (path[0] === 'environments' && path.length >= 2) {
    parts.push(`environment ${nameAt((raw as { environments?: unknown })?.environments, path[1])}`);
    node = ((raw as { environments?: unknown[] }).environments ?? [])[Number(path[1])];
    i = 2;
    if (path[2] === 'services' && path.length >= 4) {
      parts.push(`service ${nameAt((node as { services?: unknown })?.services, path[3])}`);
      i = 4;
    }
  }
  const rest = path.slice(i);
  if (rest.length > 0) {
    const field = rest
      .map((p, k) => (typeof p === 'number' ? `[${p}]` : k === 0 ? String(p) : `.${String(p)}`))
      .join('');
    parts.push(`field ${field}`);
  }
  return parts.join(', ') || 'the top level';
}

/**
 * Formats zod issues as one line each, naming environment, service and field. Each unknown field is a line
 * of its own. A value that matches no form of a union is reported by the form it comes closest to (the one
 * with the fewest issues).
 */
export function formatIssues(raw: unknown, error: z.ZodError): string[] {
  const flatten = (issue: z.core.$ZodIssue, prefix: readonly PropertyKey[]): string[] => {
    const path = [...prefix, ...issue.path];
    if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      const closest = issue.errors.reduce((best, branch) => (branch.length < best.length ? branch : best));
      return closest.flatMap((inner) => flatten(inner, path));
    }
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => `${describePath(raw, [...path, key])}: unknown field`);
    }
    return [`${describePath(raw, path)}: ${issueMessage(issue, valueAt(raw, path))}`];
  };
  return error.issues.flatMap((issue) => flatten(issue, []));
}

function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  let node = raw;
  for (const key of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return node;
}

/** zod's own English messages start like this; the schema's own messages ("must not be negative") do not. */
const GENERIC_MESSAGE = /^(Invalid|Too (big|small)|Unrecognized)\b/;

const EXPECTED: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  array: 'a list',
  object: 'an object',
  record: 'an object',
};

function shown(value: unknown): string {
  if (typeof value === 'string') return `the string ${JSON.stringify(value)}`;
  if (Array.isArray(value)) return 'a list';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object';
  return String(value);
}

function plural(n: number | bigint, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** What is wrong with the value, in the user's terms. `value` is what the file holds at the issue's path. */
function issueMessage(issue: z.core.$ZodIssue, value: unknown): string {
  if (issue.code === 'invalid_value') {
    return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
  }
  if (issue.code === 'invalid_type') {
    const expected = EXPECTED[issue.expected] ?? issue.expected;
    if (value === undefined) return `is missing (expected ${expected})`;
    return GENERIC_MESSAGE.test(issue.message) ? `must be ${expected}, not ${shown(value)}` : issue.message;
  }
  if (!GENERIC_MESSAGE.test(issue.message)) return issue.message;
  if (issue.code === 'too_small') {
    const n = issue.minimum;
    if (issue.origin === 'string') {
      return n === 1 ? 'must not be empty' : `must have at least ${plural(n, 'character')}`;
    }
    if (issue.origin === 'array' || issue.origin === 'set') return `needs at least ${plural(n, 'item')}`;
    return issue.inclusive === false ? `must be more than ${n}` : `must be at least ${n}`;
  }
  if (issue.code === 'too_big') {
    const n = issue.maximum;
    if (issue.origin === 'string') return `must have at most ${plural(n, 'character')}`;
    if (issue.origin === 'array' || issue.origin === 'set') return `must have at most ${plural(n, 'item')}`;
    return issue.inclusive === false ? `must be less than ${n}` : `must be at most ${n}`;
  }
  if (issue.code === 'invalid_format' && issue.format === 'regex' && issue.pattern) {
    return `must match ${issue.pattern}`;
  }
  return issue.message;
}

/** Validates an already-parsed config object. `source` names the file in the error. */
export function parseProjectConfig(raw: unknown, source: string): ProjectConfig {
  const result = ProjectConfig.safeParse(raw);
  if (result.success) return result.data;
  const issues = formatIssues(raw, result.error);
  throw new ConfigError(
    `${source}: ${issues[0]}${issues.length > 1 ? ` (and ${issues.length - 1} more)` : ''}`,
    issues,
  );
}

export function findEnvironment(config: ProjectConfig, environment: string): EnvironmentConfig | undefined {
  return config.environments.find((e) => e.name === environment);
}

export function findService(env: EnvironmentConfig, service: string): ServiceConfig | undefined {
  return env.services.find((s) => s.name === service);
}

/** `arn:…:targetgroup/name/id` → `targetgroup/name/id`, the CloudWatch TargetGroup dimension. */
export function targetGroupDimension(arn: string): string {
  return arn.slice(arn.indexOf('targetgroup/'));
}

/** `arn:…:listener/app/lb/id/lid` → `app/lb/id`, the CloudWatch LoadBalancer dimension. */
export function loadBalancerDimension(listenerArn: string): string {
  const m = /listener(?:-rule)?\/(app\/[^/]+\/[^/]+)\//.exec(listenerArn);
  if (!m) throw new ConfigError(`not a listener ARN: ${listenerArn}`, []);
  return m[1]!;
}
