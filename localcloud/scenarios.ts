/**
 * Scenarios of the workload model: how each version of a service behaves over simulated time while a release
 * runs. The stable version is the one serving before the deployment; the candidate the one being deployed. Each
 * has a base behaviour (error rate, latency, unhealthy hosts) and phases that change it after a number of seconds
 * of that version's uptime (counted from when its task set first appears).
 *
 * A scenario may also adjust the service's own settings for the rehearsal (`service.deployment`, `.health`,
 * `.alarms`), validated exactly as the config is; the stack is then synthesized with them, so that its alarms and
 * registration follow.
 *
 * Built-in scenarios are below; a scenario file is JSON in the same form, validated with errors that name the
 * field.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { formatIssues, ServiceConfig, type ProjectConfig } from '../lambdas/domain/config';

const seconds = z.number().int('must be a whole number of seconds').min(0, 'must not be negative');
const percent = z.number().min(0, 'must not be negative').max(100, 'must be at most 100');
const milliseconds = z.number().positive('must be positive').max(600_000, 'must be at most 600000');

const Latency = z
  .strictObject({
    /** Median response time, ms. */
    p50: milliseconds,
    /** 99th percentile response time, ms; at least p50. */
    p99: milliseconds,
  })
  .refine((l) => l.p99 >= l.p50, { message: 'must not be below p50', path: ['p99'] });

const hosts = z.number().int('must be a whole number of hosts').min(0, 'must not be negative');

/** A change of behaviour from `afterSeconds` of the version's uptime on; fields left out keep their value. */
const Phase = z.strictObject({
  afterSeconds: seconds,
  errorRatePercent: percent.optional(),
  latencyMs: Latency.optional(),
  unhealthyHosts: hosts.optional(),
});

const Version = z
  .strictObject({
    /** 5xx responses as a percent of requests. @default 0.1 */
    errorRatePercent: percent.default(0.1),
    /** @default { p50: 80, p99: 350 } */
    latencyMs: Latency.default({ p50: 80, p99: 350 }),
    /** Hosts of the version's task set that fail the target group's health checks. @default 0 */
    unhealthyHosts: hosts.default(0),
    /** In order of `afterSeconds`, strictly increasing. @default [] */
    phases: z
      .array(Phase)
      .default([])
      .superRefine((phases, ctx) => {
        for (let i = 1; i < phases.length; i++) {
          if (phases[i]!.afterSeconds <= phases[i - 1]!.afterSeconds) {
            ctx.addIssue({
              code: 'custom',
              path: [i, 'afterSeconds'],
              message: `must be after the previous phase's ${phases[i - 1]!.afterSeconds}`,
            });
          }
        }
      }),
  })
  .prefault({});

const settings = z.record(z.string(), z.unknown());

export const Scenario = z.strictObject({
  /** Lower-case letters, digits and dashes. */
  name: z
    .string()
    .regex(/^[a-z][a-z0-9-]{0,39}$/, 'must be lower-case letters, digits and dashes, starting with a letter'),
  /** One or two sentences shown in the summary and the report. @default '' */
  description: z.string().max(500, 'must be at most 500 characters').default(''),
  /** Requests per minute reaching the production listener, split by its weights. @default 3000 */
  requestsPerMinute: z
    .number()
    .int('must be a whole number')
    .min(1, 'must be at least 1')
    .max(1_000_000, 'must be at most 1000000')
    .default(3000),
  stable: Version,
  candidate: Version,
  /** Settings of the service for this rehearsal, merged over the config's. */
  service: z
    .strictObject({
      deployment: settings.optional(),
      health: settings.optional(),
      alarms: settings.optional(),
    })
    .optional(),
});
export type Scenario = z.infer<typeof Scenario>;
export type ScenarioInput = z.input<typeof Scenario>;
export type VersionScenario = Scenario['stable'];

/** What a version does at a moment of its uptime. */
export interface Behaviour {
  readonly errorRatePercent: number;
  readonly latencyMs: { readonly p50: number; readonly p99: number };
  readonly unhealthyHosts: number;
}

export class ScenarioError extends Error {
  override readonly name = 'ScenarioError';
}

/** The behaviour of a version after `uptimeSeconds`: its base, changed by every phase begun by then. */
export function behaviourAt(version: VersionScenario, uptimeSeconds: number): Behaviour {
  let b: Behaviour = {
    errorRatePercent: version.errorRatePercent,
    latencyMs: version.latencyMs,
    unhealthyHosts: version.unhealthyHosts,
  };
  for (const phase of version.phases) {
    if (phase.afterSeconds > uptimeSeconds) break;
    b = {
      errorRatePercent: phase.errorRatePercent ?? b.errorRatePercent,
      latencyMs: phase.latencyMs ?? b.latencyMs,
      unhealthyHosts: phase.unhealthyHosts ?? b.unhealthyHosts,
    };
  }
  return b;
}

const BUILT_IN: readonly ScenarioInput[] = [
  {
    name: 'healthy',
    description: 'Both versions answer well: the release goes through every step and ends on the candidate.',
  },
  {
    name: 'bad-release',
    description: 'The candidate fails a quarter of its requests from its first one.',
    candidate: { errorRatePercent: 25, latencyMs: { p50: 90, p99: 420 } },
  },
  {
    name: 'latency-regression',
    description: 'The candidate answers correctly but slowly: its p99 is twice the threshold.',
    candidate: { latencyMs: { p50: 420, p99: 1700 } },
  },
  {
    name: 'late-failure',
    description:
      'The candidate is healthy for two minutes, then fails 30 % of its requests (a leak). The health gate checks ' +
      'only at the end of each bake here, so the alarms catch the failure in between and roll it back.',
    candidate: { phases: [{ afterSeconds: 120, errorRatePercent: 30 }] },
    service: { deployment: { healthCheckIntervalSeconds: 300 } },
  },
  {
    name: 'flaky-start',
    description:
      'A host of the candidate fails its health checks for its first 40 seconds: the deployment waits for the ' +
      'target group to report it healthy for a whole minute, then goes on and succeeds.',
    candidate: { unhealthyHosts: 1, phases: [{ afterSeconds: 40, unhealthyHosts: 0 }] },
  },
];

/** The built-in scenarios, by name, in the order above. */
export const BUILT_IN_SCENARIOS: ReadonlyMap<string, Scenario> = new Map(
  BUILT_IN.map((s) => [s.name, parseScenario(s, `built-in scenario ${s.name}`)]),
);

export const BUILT_IN_SCENARIO_NAMES = [...BUILT_IN_SCENARIOS.keys()];

export function builtInScenario(name: string): Scenario {
  const scenario = BUILT_IN_SCENARIOS.get(name);
  if (!scenario)
    throw new ScenarioError(
      `no built-in scenario "${name}" (built-in: ${BUILT_IN_SCENARIO_NAMES.join(', ')})`,
    );
  return scenario;
}

/** Validates a scenario; the error names the first field at fault (`source: field candidate.phases[0]…: …`). */
export function parseScenario(raw: unknown, source: string): Scenario {
  const result = Scenario.safeParse(raw);
  if (!result.success) {
    const issues = formatIssues(raw, result.error);
    throw new ScenarioError(
      `${source}: ${issues[0]}${issues.length > 1 ? ` (and ${issues.length - 1} more)` : ''}`,
    );
  }
  return result.data;
}

/** Reads and validates a scenario file (JSON). */
export function loadScenarioFile(file: string): Scenario {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ScenarioError(`cannot read scenario file ${file}: ${(err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ScenarioError(`scenario file ${file} is not JSON: ${(err as Error).message}`);
  }
  return parseScenario(raw, `scenario file ${file}`);
}

/**
 * The config with the scenario's service settings merged over those of `service` in `environment`, validated as
 * a service of the config is. Unchanged when the scenario has none.
 */
export function applyScenarioSettings(
  config: ProjectConfig,
  environment: string,
  service: string,
  scenario: Scenario,
  source = `scenario ${scenario.name}`,
): ProjectConfig {
  const overrides = scenario.service;
  if (!overrides) return config;
  return {
    ...config,
    environments: config.environments.map((env) =>
      env.name !== environment
        ? env
        : {
            ...env,
            services: env.services.map((svc) => {
              if (svc.name !== service) return svc;
              const merged = deepMerge(svc, overrides) as Record<string, unknown>;
              const result = ServiceConfig.safeParse(merged);
              if (result.success) return result.data;
              const issues = formatIssues(merged, result.error).map((i) =>
                i.replace(/^field /, 'field service.'),
              );
              throw new ScenarioError(`${source}: ${issues[0]}`);
            }),
          },
    ),
  };
}

/** `over` merged into `base`: objects field by field, anything else (lists included) replaced. */
function deepMerge(base: unknown, over: unknown): unknown {
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isObject(base) || !isObject(over)) return over === undefined ? base : over;
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) out[key] = deepMerge(base[key], value);
  return out;
}
