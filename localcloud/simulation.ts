/**
 * One rehearsal of a release, end to end, in the local cloud: the workload model and the alarm evaluator attached
 * to a cloud, a few minutes of stable traffic, the deployment's execution started with the console's input, live
 * progress at every tick, a few minutes after its end, and the result read back from moto (records, weights, task
 * sets) and from what the model and the evaluator saw.
 *
 * `simulate` starts a cloud for one run and always stops it. `runSimulation` runs in a cloud started with
 * `simulationCloudOptions` (tests run several scenarios in one cloud: each run first lets the alarms settle).
 */
import { DescribeServicesCommand, DescribeTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import {
  findEnvironment,
  findService,
  type ProjectConfig,
  type RollbackTrigger,
  type Strategy,
} from '../lambdas/domain/config';
import type { StrategyOptionsInput } from '../lambdas/domain/input';
import { alarmNamesFor } from '../lambdas/domain/naming';
import type {
  DeploymentRecord,
  DeploymentStatus,
  RollbackRecord,
  TimelineEntry,
} from '../lambdas/domain/records';
import { DeploymentStore } from '../lambdas/adapters/deployment-store';
import { loadConfigFile } from '../lib/config/load';
import { AlarmEvaluator, alarmsFromTemplate, type AlarmState, type AlarmTransition } from './alarms';
import { LocalCloud, type LocalCloudOptions, DEFAULT_STABLE_IMAGE } from './index';
import { applyScenarioSettings, type Scenario } from './scenarios';
import {
  installCloudWatchReadFixes,
  readRoute,
  Workload,
  type MinuteSample,
  type Role,
  type Slot,
  type WeightSample,
} from './workload';

export type Outcome = 'SUCCEEDED' | 'ROLLED_BACK' | 'FAILED' | 'REJECTED';

/** Simulated seconds between ticks of a simulation's clock: the readiness check polls every 15 s. */
export const SIMULATION_TICK_SECONDS = 15;

export interface SimulationRequest {
  /** @default 'staging' */
  readonly environment?: string;
  /** @default the environment's first service */
  readonly service?: string;
  /** @default the service's configured strategy */
  readonly strategy?: Strategy;
  readonly strategyOptions?: StrategyOptionsInput;
  readonly scenario: Scenario;
  /** @default 1 */
  readonly seed?: number;
  /** The candidate image. @default the stable image's repository, tagged after the scenario */
  readonly image?: string;
  /** The raw execution input, started exactly as given (the console's form); replaces the one built here. */
  readonly input?: unknown;
  /** Simulated seconds of stable traffic before the deployment starts. @default 300 */
  readonly warmupSeconds?: number;
  /** Simulated seconds of traffic after the execution ends. @default 180 */
  readonly cooldownSeconds?: number;
  /** Called at every tick of the simulated clock. */
  readonly onProgress?: (progress: Progress) => void;
}

export interface Progress {
  readonly at: string;
  readonly phase: 'warm-up' | 'deploying' | 'cool-down';
  /** Simulated seconds since the deployment started (negative during the warm-up). */
  readonly elapsedSeconds: number;
  readonly status?: DeploymentStatus;
  /** 1-based. */
  readonly step?: { readonly index: number; readonly count: number; readonly weight: number };
  readonly weights: { readonly stable: number; readonly candidate: number };
  /** The service's alarms and their states. */
  readonly alarms: readonly { readonly name: string; readonly state: AlarmState }[];
  readonly verdict?: { readonly status: string; readonly reason: string };
  readonly lastEvent?: { readonly at: string; readonly event: string; readonly message: string };
}

export interface SimulationTimelineEntry {
  readonly at: string;
  readonly source: 'deployment' | 'alarm' | 'execution';
  readonly event: string;
  readonly message: string;
  /** Traffic at that moment, in percent: on the deployment's record, else as read from moto. */
  readonly weights: { readonly stable: number; readonly candidate: number };
  readonly step?: number;
  readonly verdict?: string;
}

export interface TaskSetView {
  readonly id: string;
  readonly arn: string;
  readonly status: string;
  readonly slot?: Slot;
  readonly role: Role;
  readonly scale: number;
  readonly externalId?: string;
  readonly taskDefinition: string;
}

export interface SimulationResult {
  readonly outcome: Outcome;
  readonly trigger: RollbackTrigger | null;
  /** Why a REJECTED or FAILED deployment ended so. */
  readonly error: string | null;
  readonly environment: string;
  readonly service: string;
  readonly strategy: Strategy;
  readonly scenario: { readonly name: string; readonly description: string };
  readonly seed: number;
  readonly image: string | null;
  readonly stableImage: string | null;
  readonly deploymentId: string;
  readonly execution: {
    readonly arn: string;
    readonly status: string;
    readonly error: string | null;
    readonly cause: string | null;
    readonly startedAt: string;
    readonly stoppedAt: string;
  };
  /** Traffic percents of each step the deployment took, in order. */
  readonly steps: readonly number[];
  readonly timeline: readonly SimulationTimelineEntry[];
  /** The deployment's items in the table: its record, its rollbacks, and the service's state. */
  readonly records: {
    readonly deployment: DeploymentRecord | null;
    readonly rollbacks: readonly RollbackRecord[];
    readonly serviceState: unknown;
  };
  /** Read from moto at the end: "stable" is the slot that served before this deployment. */
  readonly finalWeights: { readonly stable: number; readonly candidate: number };
  readonly taskSets: readonly TaskSetView[];
  /** Simulated milliseconds from the rollback's trigger to traffic 100 % on stable; null without rollback. */
  readonly timeToRestoreTrafficMs: number | null;
  readonly alarmTransitions: readonly AlarmTransition[];
  /** What the report draws. */
  readonly series: {
    readonly weights: readonly WeightSample[];
    readonly minutes: readonly MinuteSample[];
    readonly thresholds: {
      readonly errorRatePercent: number;
      readonly latencyMs: number;
      readonly latencyPercentile: string;
    };
    readonly stableSlot: Slot;
  };
  readonly simulatedSeconds: number;
  readonly wallMs: number;
}

/**
 * The options a cloud for simulations starts with: the config with the scenario's service settings, a clock that
 * ticks every 15 simulated seconds, the handlers' CloudWatch reads fixed for the workload's metrics, quiet
 * handlers.
 */
export function simulationCloudOptions(options: {
  readonly config?: ProjectConfig;
  readonly environment?: string;
  readonly service?: string;
  readonly scenario: Scenario;
  readonly seed?: number;
  readonly logLevel?: LocalCloudOptions['logLevel'];
  readonly motoCommand?: string;
}): LocalCloudOptions {
  const base = options.config ?? loadConfigFile();
  const environment = options.environment ?? 'staging';
  const service = resolveService(base, environment, options.service);
  return {
    config: applyScenarioSettings(base, environment, service, options.scenario),
    environment,
    seed: options.seed ?? 1,
    clock: { tickSeconds: SIMULATION_TICK_SECONDS },
    logLevel: options.logLevel ?? 'SILENT',
    configureHandlerClients: (clients) => installCloudWatchReadFixes(clients.cloudwatch),
    ...(options.motoCommand ? { motoCommand: options.motoCommand } : {}),
  };
}

/** The service a request names, or the environment's first; an error names what is unknown. */
export function resolveService(config: ProjectConfig, environment: string, service?: string): string {
  const env = findEnvironment(config, environment);
  if (!env) {
    throw new SimulationError(
      `no environment "${environment}" in the config (environments: ${config.environments.map((e) => e.name).join(', ')})`,
    );
  }
  const name = service ?? env.services[0]!.name;
  if (!findService(env, name)) {
    throw new SimulationError(
      `no service "${name}" in ${environment} (services: ${env.services.map((s) => s.name).join(', ')})`,
    );
  }
  return name;
}

export class SimulationError extends Error {
  override readonly name = 'SimulationError';
}

/** Starts a cloud for the request, runs it, and always stops the cloud. */
export async function simulate(
  request: SimulationRequest & { readonly config?: ProjectConfig; readonly motoCommand?: string },
): Promise<SimulationResult> {
  const environment = request.environment ?? 'staging';
  const base = request.config ?? loadConfigFile();
  const service = serviceOfRequest(base, environment, request);
  const cloud = await LocalCloud.start(
    simulationCloudOptions({
      config: base,
      environment,
      service,
      scenario: request.scenario,
      ...(request.seed !== undefined ? { seed: request.seed } : {}),
      ...(request.motoCommand ? { motoCommand: request.motoCommand } : {}),
    }),
  );
  try {
    return await runSimulation(cloud, { ...request, environment, service });
  } finally {
    await cloud.stop();
  }
}

/** The service the workload runs on: the one the raw input names when it names one of the environment's. */
function serviceOfRequest(config: ProjectConfig, environment: string, request: SimulationRequest): string {
  const named = (request.input as { service?: unknown } | undefined)?.service;
  const env = findEnvironment(config, environment);
  if (typeof named === 'string' && env && findService(env, named)) return named;
  return resolveService(config, environment, request.service);
}

/** Runs one rehearsal in a cloud started with `simulationCloudOptions`. */
export async function runSimulation(
  cloud: LocalCloud,
  request: SimulationRequest,
): Promise<SimulationResult> {
  const wallStart = performance.now();
  const environment = cloud.environment;
  if (request.environment && request.environment !== environment) {
    throw new SimulationError(`this cloud runs ${environment}, not ${request.environment}`);
  }
  const serviceName = serviceOfRequest(cloud.config, environment, request);
  const env = findEnvironment(cloud.config, environment)!;
  const service = findService(env, serviceName)!;
  const withSettings = applyScenarioSettings(cloud.config, environment, serviceName, request.scenario);
  if (
    JSON.stringify(findService(findEnvironment(withSettings, environment)!, serviceName)) !==
    JSON.stringify(service)
  ) {
    throw new SimulationError(
      `the cloud was not started with the settings of scenario ${request.scenario.name}`,
    );
  }
  const handlerWatch = cloud.depsFor('health-gate').cloudwatch;
  if (!handlerWatch.middlewareStack.identify().some((n) => n.startsWith('localcloudGetMetricDataFixes'))) {
    throw new SimulationError(
      'the cloud was not started with simulationCloudOptions (its CloudWatch reads are not fixed)',
    );
  }
  const strategy = request.strategy ?? service.deployment.strategy;
  const seed = request.seed ?? 1;
  const clock = cloud.clock;
  const store = new DeploymentStore(cloud.clients.dynamodb, cloud.deps.tableName);
  const serviceAlarms = new Set(alarmNamesFor(env, service));

  const workload = await Workload.attach({
    clock,
    clients: cloud.clients,
    service,
    scenario: request.scenario,
    seed,
  });
  const evaluator = await AlarmEvaluator.attach({
    clock,
    cloudwatch: cloud.clients.cloudwatch,
    publish: (event) => cloud.events.publish(event),
    alarms: alarmsFromTemplate(cloud.template),
    region: env.region,
    accountId: env.account,
  });

  let phase: Progress['phase'] = 'warm-up';
  let deploymentId: string | undefined;
  let deploymentStart = Number.NaN;
  const progress = async (now: Date) => {
    if (!request.onProgress) return;
    const record =
      phase === 'deploying' && deploymentId ? await store.getDeployment(deploymentId) : undefined;
    const latest = workload.weights.at(-1);
    const step = record?.plan && record.stepIndex !== undefined ? record.plan[record.stepIndex] : undefined;
    const last = record?.timeline.at(-1);
    request.onProgress({
      at: now.toISOString(),
      phase,
      elapsedSeconds: Number.isNaN(deploymentStart)
        ? 0
        : Math.round((now.getTime() - deploymentStart) / 1000),
      ...(record ? { status: record.status } : {}),
      ...(step && record
        ? { step: { index: record.stepIndex! + 1, count: record.plan!.length, weight: step.weight } }
        : {}),
      weights: record?.weights ?? { stable: latest?.stable ?? 100, candidate: latest?.candidate ?? 0 },
      alarms: [...evaluator.states()]
        .filter(([name]) => serviceAlarms.has(name))
        .map(([name, state]) => ({ name, state })),
      ...(record?.lastVerdict
        ? { verdict: { status: record.lastVerdict.status, reason: record.lastVerdict.reason } }
        : {}),
      ...(last ? { lastEvent: { at: last.at, event: last.event, message: last.message } } : {}),
    });
  };
  const removeProgress = clock.onTick(progress, { order: 20 });

  const simulatedStart = clock.now().getTime();
  try {
    // Stable traffic first, from a whole minute on: alarms left over from an earlier run settle, and the report
    // shows the service as it was.
    const toMinute = (60_000 - (simulatedStart % 60_000)) % 60_000;
    await clock.advance(toMinute / 1000 + (request.warmupSeconds ?? 300));

    const stableImage = await imageServing(cloud, service.cluster, service.ecsService, service.containerName);
    const input = request.input ?? {
      environment,
      service: serviceName,
      image: request.image ?? candidateImage(stableImage, request.scenario.name),
      reason: `rehearsal: ${request.scenario.name}`,
      requestedBy: 'envctl-simulate',
      ...(request.strategyOptions && Object.keys(request.strategyOptions).length > 0
        ? { strategyOptions: request.strategyOptions }
        : {}),
    };
    phase = 'deploying';
    const handle = await cloud.runner.start({ stateMachine: strategy, input });
    deploymentId = handle.name;
    deploymentStart = clock.now().getTime();
    const run = await handle.result;
    await progress(clock.now()); // how the deployment ended, before the cool-down
    phase = 'cool-down';
    await clock.advance(request.cooldownSeconds ?? 180);

    const record = (await store.getDeployment(handle.name)) ?? null;
    const rollbacks = (await store.listRollbacks(environment, serviceName, { limit: 50 })).items.filter(
      (r) => r.deploymentId === handle.name,
    );
    const serviceState = (await store.getServiceState(environment, serviceName)) ?? null;
    const route = await readRoute(cloud.clients, service);
    const sum = route.weights.blue + route.weights.green;
    const pct = (slot: Slot) => (sum > 0 ? Math.round((100 * route.weights[slot]) / sum) : 0);
    const finalWeights = { stable: pct(workload.stableSlot), candidate: pct(workload.candidateSlot) };
    const taskSets = await describeTaskSets(cloud, service, workload);

    const { outcome, error } = outcomeOf(record, run.status, run.error, run.cause);
    const timeline = buildTimeline(record, evaluator.transitions, workload.weights, serviceAlarms, {
      at: run.stoppedAt.toISOString(),
      status: run.status,
      error: run.error,
    });
    const restore = rollbacks.find((r) => r.timeToRestoreTrafficMs !== undefined);
    return {
      outcome,
      trigger: record?.trigger ?? null,
      error,
      environment,
      service: serviceName,
      strategy,
      scenario: { name: request.scenario.name, description: request.scenario.description },
      seed,
      image:
        record?.image ||
        (typeof (input as { image?: unknown }).image === 'string'
          ? (input as { image: string }).image
          : null),
      stableImage: record?.stable?.image ?? stableImage ?? null,
      deploymentId: handle.name,
      execution: {
        arn: handle.executionArn,
        status: run.status,
        error: run.error ?? null,
        cause: run.cause ?? null,
        startedAt: run.startedAt.toISOString(),
        stoppedAt: run.stoppedAt.toISOString(),
      },
      steps: (record?.timeline ?? [])
        .filter((t) => t.event === 'traffic-shifted')
        .map((t) => t.weights?.candidate ?? 0),
      timeline,
      records: { deployment: record, rollbacks, serviceState },
      finalWeights,
      taskSets,
      timeToRestoreTrafficMs: restore?.timeToRestoreTrafficMs ?? null,
      alarmTransitions: evaluator.transitions.filter((t) => serviceAlarms.has(t.alarmName)),
      series: {
        weights: workload.weights,
        minutes: workload.minutes,
        thresholds: {
          errorRatePercent: service.health.maxErrorRatePercent,
          latencyMs: service.health.maxLatencyMs,
          latencyPercentile: service.health.latencyPercentile,
        },
        stableSlot: workload.stableSlot,
      },
      simulatedSeconds: Math.round((clock.now().getTime() - simulatedStart) / 1000),
      wallMs: Math.round(performance.now() - wallStart),
    };
  } finally {
    removeProgress();
    evaluator.detach();
    workload.detach();
  }
}

/** The outcome of a deployment from its record, else from how its execution ended. */
export function outcomeOf(
  record: Pick<DeploymentRecord, 'status' | 'error'> | null,
  executionStatus: string,
  executionError?: string,
  executionCause?: string,
): { outcome: Outcome; error: string | null } {
  const why = executionCause ?? executionError ?? null;
  if (!record) {
    return {
      outcome: 'FAILED',
      error: `the execution ended ${executionStatus} without a deployment record${why ? `: ${why}` : ''}`,
    };
  }
  switch (record.status) {
    case 'SUCCEEDED':
    case 'ROLLED_BACK':
      return { outcome: record.status, error: null };
    case 'REJECTED':
      return { outcome: 'REJECTED', error: record.error ?? why };
    case 'FAILED':
      return { outcome: 'FAILED', error: record.error ?? why };
    default:
      return {
        outcome: 'FAILED',
        error: `the execution ended ${executionStatus} but the deployment record is ${record.status}${record.error ? `: ${record.error}` : why ? `: ${why}` : ''}`,
      };
  }
}

/** The deployment's timeline with alarm changes and the execution's end, each with the traffic at that moment. */
export function buildTimeline(
  record: Pick<DeploymentRecord, 'timeline'> | null,
  transitions: readonly AlarmTransition[],
  weights: readonly WeightSample[],
  serviceAlarms: ReadonlySet<string>,
  end: { at: string; status: string; error?: string },
): SimulationTimelineEntry[] {
  // Traffic at a moment: the last sample read from moto at or before it; for the execution's end, the record's
  // own last weights count too (they are written after the tick's sample at the same moment).
  const recorded = (record?.timeline ?? []).filter((t) => t.weights);
  const weightsAt = (at: string, afterRecord = false) => {
    let found: { stable: number; candidate: number } = { stable: 100, candidate: 0 };
    let foundAt = '';
    for (const w of weights) {
      if (w.at > at) break;
      found = w;
      foundAt = w.at;
    }
    if (afterRecord) {
      const last = recorded.filter((t) => t.at <= at).at(-1);
      if (last && last.at >= foundAt) found = last.weights!;
    }
    return { stable: found.stable, candidate: found.candidate };
  };
  const entries: SimulationTimelineEntry[] = [
    ...(record?.timeline ?? []).map((t: TimelineEntry) => ({
      at: t.at,
      source: 'deployment' as const,
      event: t.event,
      message: t.message,
      weights: t.weights ?? weightsAt(t.at),
      ...(t.step !== undefined ? { step: t.step } : {}),
      ...(t.verdict ? { verdict: t.verdict } : {}),
    })),
    ...transitions
      .filter((t) => serviceAlarms.has(t.alarmName))
      .map((t) => ({
        at: t.at,
        source: 'alarm' as const,
        event: t.to === 'ALARM' ? 'alarm' : `alarm-${t.to.toLowerCase().replace('_', '-')}`,
        message: `${t.alarmName}: ${t.from} → ${t.to}. ${t.reason}`,
        weights: weightsAt(t.at),
      })),
    {
      at: end.at,
      source: 'execution' as const,
      event: 'execution-ended',
      message: `execution ${end.status}${end.error ? ` (${end.error})` : ''}`,
      weights: weightsAt(end.at, true),
    },
  ];
  // Stable by time: at equal times, alarms before what they caused, the execution's end last.
  const rank = { alarm: 0, deployment: 1, execution: 2 } as const;
  return entries
    .map((e, i) => ({ e, i }))
    .sort((a, b) => a.e.at.localeCompare(b.e.at) || rank[a.e.source] - rank[b.e.source] || a.i - b.i)
    .map(({ e }) => e);
}

async function describeTaskSets(
  cloud: LocalCloud,
  service: { cluster: string; ecsService: string; targetGroups: Record<Slot, string> },
  workload: Workload,
): Promise<TaskSetView[]> {
  const out = await cloud.clients.ecs.send(
    new DescribeServicesCommand({ cluster: service.cluster, services: [service.ecsService] }),
  );
  return (out.services?.[0]?.taskSets ?? []).map((t) => {
    const tg = t.loadBalancers?.[0]?.targetGroupArn;
    const slot = (['blue', 'green'] as const).find((s) => service.targetGroups[s] === tg);
    return {
      id: t.id!,
      arn: t.taskSetArn!,
      status: t.status!,
      ...(slot ? { slot } : {}),
      role: workload.roleOf(t.taskSetArn!),
      scale: t.scale?.value ?? 0,
      ...(t.externalId ? { externalId: t.externalId } : {}),
      taskDefinition: t.taskDefinition!,
    };
  });
}

/** The image the service's primary task set runs, read from moto. */
async function imageServing(
  cloud: LocalCloud,
  cluster: string,
  ecsService: string,
  container: string,
): Promise<string | undefined> {
  const out = await cloud.clients.ecs.send(new DescribeServicesCommand({ cluster, services: [ecsService] }));
  const primary = out.services?.[0]?.taskSets?.find((t) => t.status === 'PRIMARY');
  if (!primary?.taskDefinition) return undefined;
  const td = await cloud.clients.ecs.send(
    new DescribeTaskDefinitionCommand({ taskDefinition: primary.taskDefinition }),
  );
  return td.taskDefinition?.containerDefinitions?.find((c) => c.name === container)?.image;
}

/** `repo:1.27` → `repo:1.27-<scenario>-rc1` (or `-rc2` if that one serves), a new image of the same repository. */
export function candidateImage(stableImage: string | undefined, scenario: string): string {
  const image = stableImage ?? DEFAULT_STABLE_IMAGE;
  const at = image.lastIndexOf(':');
  const slash = image.lastIndexOf('/');
  const repo = at > slash ? image.slice(0, at) : image;
  const tag = at > slash ? image.slice(at + 1) : 'latest';
  const base = tag.split('-')[0]!.slice(0, 80);
  const first = `${repo}:${base}-${scenario}-rc1`;
  return first === image ? `${repo}:${base}-${scenario}-rc2` : first;
}
