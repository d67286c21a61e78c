/**
 * The workload model: live traffic on a service while a release runs, written to moto's CloudWatch as an
 * Application Load Balancer writes it.
 *
 * At every tick of the simulated clock (15 simulated seconds in a simulation) the model reads the production
 * route's forward weights and the ECS service's task sets from moto, sends that slice of the scenario's requests
 * to the target groups by weight, and lets the version behind each target group (its task set: the one serving
 * when the model was attached is the stable version, any other the candidate) answer with the scenario's error
 * rate and latency at that version's uptime. Per target group it then writes:
 *
 * - each minute, for the minute just ended and timestamped with its start, as the ALB does: `RequestCount`,
 *   `HTTPCode_Target_5XX_Count` (both Sum) and one `TargetResponseTime` datapoint equal to that minute's latency
 *   at the service's configured percentile (see below); a target group that got no request gets no datapoint;
 * - at every tick, for target groups with a task set: `UnHealthyHostCount` and `HealthyHostCount`, samples of the
 *   minute in progress (read with Maximum, a minute's samples give the worst moment).
 *
 * moto 5.2.1 cannot compute percentiles: GetMetricData with `p99` answers 500, and it keeps one value per datum
 * (a minute's latency distribution would take one datum per request). The model therefore publishes the minute's
 * percentile itself, and `installCloudWatchReadFixes` rewrites percentile statistics of GetMetricData queries into
 * `Maximum` on the handlers' client: over one minute, the maximum of that one datapoint is the percentile. The same
 * fix rounds StartTime down to the whole minute, as CloudWatch does for data younger than 15 days (moto compares
 * with the exact StartTime, so a window starting at 09:03:15 would miss the minute that began at 09:03:00).
 *
 * moto 5.2.1 also matches a query's dimensions with the datapoints' only when both list them in the same order
 * (its `Dimension.__lt__` compares a value with a name, so sorting them does nothing useful). Everything the local
 * cloud writes and queries lists dimensions by name (`canonicalDimensions`), and the same fix puts the handlers'
 * GetMetricData queries in that order.
 *
 * Randomness (request counts, errors, a little latency jitter) comes from a seeded generator: the same seed and the
 * same sequence of weights give the same metrics.
 */
import { PutMetricDataCommand, type CloudWatchClient, type MetricDatum } from '@aws-sdk/client-cloudwatch';
import { DescribeServicesCommand, type ECSClient } from '@aws-sdk/client-ecs';
import {
  DescribeListenersCommand,
  DescribeRulesCommand,
  type Action,
  type ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { loadBalancerDimension, targetGroupDimension, type ServiceConfig } from '../lambdas/domain/config';
import type { SimulatedClock } from './clock';
import { mixtureQuantile, percentileOfStatistic, type MixtureComponent } from './percentiles';
import { behaviourAt, type Scenario } from './scenarios';

export type Slot = 'blue' | 'green';
export type Role = 'stable' | 'candidate';
export const SLOTS: readonly Slot[] = ['blue', 'green'];

// ---- seeded randomness ---------------------------------------------------------------------------------

/** A small seeded generator (mulberry32) with the draws the model needs. */
export class Random {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0 || 0x9e3779b9;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Standard normal (Box-Muller). */
  normal(): number {
    const u = 1 - this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Successes in `n` trials of probability `p`: exact by inversion for small means, else normal. */
  binomial(n: number, p: number): number {
    if (n <= 0 || p <= 0) return 0;
    if (p >= 1) return n;
    if (p > 0.5) return n - this.binomial(n, 1 - p);
    const variance = n * p * (1 - p);
    if (variance > 25)
      return Math.min(n, Math.max(0, Math.round(n * p + Math.sqrt(variance) * this.normal())));
    const q = 1 - p;
    let x = 0;
    let prob = Math.pow(q, n);
    let cumulative = prob;
    const u = this.next();
    while (u > cumulative && x < n) {
      prob *= ((n - x) / (x + 1)) * (p / q);
      x++;
      cumulative += prob;
    }
    return x;
  }

  /** A count around `mean`, as arrivals are (Poisson, by its normal approximation above a mean of 30). */
  count(mean: number): number {
    if (mean <= 0) return 0;
    if (mean > 30) return Math.max(0, Math.round(mean + Math.sqrt(mean) * this.normal()));
    let k = 0;
    let prob = Math.exp(-mean);
    let cumulative = prob;
    const u = this.next();
    while (u > cumulative && k < 10 * mean + 10) {
      k++;
      prob *= mean / k;
      cumulative += prob;
    }
    return k;
  }
}

// ---- the model's pure part ---------------------------------------------------------------------------

/** The routing and capacity the model reads from moto at a tick. */
export interface RouteState {
  /** Forward weights by slot, as the listener (or rule) holds them. */
  readonly weights: Readonly<Record<Slot, number>>;
  /** The task set registered to each slot's target group, if any. */
  readonly taskSets: Readonly<Partial<Record<Slot, { readonly arn: string; readonly hosts: number }>>>;
}

/** What one target group received and answered during one slice of time. */
export interface SliceResult {
  readonly slot: Slot;
  readonly role: Role;
  readonly requests: number;
  readonly errors: number;
  readonly latency: MixtureComponent;
  readonly hosts: number;
  readonly unhealthyHosts: number;
}

/** Requests of one slice split over the slots by weight (a multinomial draw). */
export function splitByWeight(
  total: number,
  weights: Readonly<Record<Slot, number>>,
  random: Random,
): Record<Slot, number> {
  const sum = weights.blue + weights.green;
  if (sum <= 0) return { blue: 0, green: 0 };
  const blue = random.binomial(total, weights.blue / sum);
  return { blue, green: total - blue };
}

// ---- samples kept for the summary and the report ---------------------------------------------------------

/** The route's weights at a tick, by slot and by role. */
export interface WeightSample {
  readonly at: string;
  readonly blue: number;
  readonly green: number;
  /** Percent of traffic on the stable version's slot. */
  readonly stable: number;
  /** Percent of traffic on the other slot, where the candidate runs. */
  readonly candidate: number;
}

/** One target group's minute, as published. */
export interface MinuteSample {
  /** Start of the minute. */
  readonly at: string;
  readonly slot: Slot;
  readonly role: Role;
  readonly requests: number;
  readonly errors: number;
  /** 100 × errors / requests; undefined without requests. */
  readonly errorRatePercent?: number;
  /** The configured percentile of the minute's latency, ms; undefined without requests. */
  readonly latencyMs?: number;
  /** Worst sample of the minute. */
  readonly unhealthyHosts: number;
  readonly hosts: number;
}

export interface WorkloadOptions {
  readonly clock: SimulatedClock;
  readonly clients: {
    readonly cloudwatch: CloudWatchClient;
    readonly ecs: ECSClient;
    readonly elb: ElasticLoadBalancingV2Client;
  };
  readonly service: ServiceConfig;
  readonly scenario: Scenario;
  readonly seed: number;
  /** Ticker order on the clock (before the alarm evaluator). @default 0 */
  readonly order?: number;
}

interface Accumulator {
  requests: number;
  errors: number;
  components: MixtureComponent[];
  unhealthyHosts: number;
  hosts: number;
  role: Role;
}

const NAMESPACE = 'AWS/ApplicationELB';

export class Workload {
  readonly weights: WeightSample[] = [];
  readonly minutes: MinuteSample[] = [];
  private readonly random: Random;
  private readonly firstSeen = new Map<string, number>();
  private readonly accumulators = new Map<Slot, Accumulator>();
  private readonly percentile: number;
  private readonly dimensions: Record<Slot, { Name: string; Value: string }[]>;
  private removeTicker: () => void = () => undefined;

  private constructor(
    private readonly options: WorkloadOptions,
    /** The task sets serving when the model was attached: the stable version. */
    private readonly stableTaskSets: ReadonlySet<string>,
    /** The slot the stable version serves from. */
    readonly stableSlot: Slot,
  ) {
    this.random = new Random(options.seed);
    const statistic = options.service.health.latencyPercentile;
    this.percentile = percentileOfStatistic(statistic) ?? 0.99;
    const lb = loadBalancerDimension(options.service.listener.arn);
    const dims = (slot: Slot) =>
      canonicalDimensions([
        { Name: 'TargetGroup', Value: targetGroupDimension(options.service.targetGroups[slot]) },
        { Name: 'LoadBalancer', Value: lb },
      ]);
    this.dimensions = { blue: dims('blue'), green: dims('green') };
  }

  /** Reads which version serves now, then writes traffic at every tick until `detach`. */
  static async attach(options: WorkloadOptions): Promise<Workload> {
    if (60_000 % options.clock.tickMs !== 0) throw new Error('the clock tick must divide a minute');
    const state = await readRoute(options.clients, options.service);
    const serving = SLOTS.filter((s) => state.weights[s] > 0 && state.taskSets[s]);
    const stableSlot =
      serving.length === 1 ? serving[0]! : state.weights.blue >= state.weights.green ? 'blue' : 'green';
    const stable = new Set(SLOTS.flatMap((s) => (state.taskSets[s] ? [state.taskSets[s]!.arn] : [])));
    const workload = new Workload(options, stable, stableSlot);
    const now = options.clock.now().getTime();
    for (const arn of stable) workload.firstSeen.set(arn, now);
    workload.removeTicker = options.clock.onTick((at) => workload.tick(at), { order: options.order ?? 0 });
    return workload;
  }

  get candidateSlot(): Slot {
    return this.stableSlot === 'blue' ? 'green' : 'blue';
  }

  detach(): void {
    this.removeTicker();
  }

  /** The role of the version behind a task set. */
  roleOf(taskSetArn: string): Role {
    return this.stableTaskSets.has(taskSetArn) ? 'stable' : 'candidate';
  }

  private async tick(at: Date): Promise<void> {
    const { clock, clients, scenario } = this.options;
    const now = at.getTime();
    const sliceSeconds = clock.tickMs / 1000;
    const state = await readRoute(clients, this.options.service);
    const sum = state.weights.blue + state.weights.green;
    const pct = (slot: Slot) => (sum > 0 ? Math.round((100 * state.weights[slot]) / sum) : 0);
    this.weights.push({
      at: at.toISOString(),
      blue: pct('blue'),
      green: pct('green'),
      stable: pct(this.stableSlot),
      candidate: pct(this.candidateSlot),
    });

    const total = this.random.count((scenario.requestsPerMinute * sliceSeconds) / 60);
    const routed = splitByWeight(total, state.weights, this.random);
    const gauges: MetricDatum[] = [];
    const minuteStart = new Date(Math.floor(now / 60_000) * 60_000);
    for (const slot of SLOTS) {
      const taskSet = state.taskSets[slot];
      if (!taskSet) continue; // no target: the ALB answers 503 itself and the target group reports nothing
      if (!this.firstSeen.has(taskSet.arn)) this.firstSeen.set(taskSet.arn, now);
      const role = this.roleOf(taskSet.arn);
      const uptime = (now - this.firstSeen.get(taskSet.arn)!) / 1000;
      const behaviour = behaviourAt(scenario[role], uptime);
      const requests = routed[slot];
      const errors = this.random.binomial(requests, behaviour.errorRatePercent / 100);
      const unhealthyHosts = Math.min(behaviour.unhealthyHosts, taskSet.hosts);
      const acc = this.accumulator(slot, role);
      acc.requests += requests;
      acc.errors += errors;
      if (requests > 0) acc.components.push({ weight: requests, latency: behaviour.latencyMs });
      acc.unhealthyHosts = Math.max(acc.unhealthyHosts, unhealthyHosts);
      acc.hosts = Math.max(acc.hosts, taskSet.hosts);
      gauges.push(
        {
          MetricName: 'UnHealthyHostCount',
          Dimensions: this.dimensions[slot],
          Value: unhealthyHosts,
          Timestamp: minuteStart,
        },
        {
          MetricName: 'HealthyHostCount',
          Dimensions: this.dimensions[slot],
          Value: taskSet.hosts - unhealthyHosts,
          Timestamp: minuteStart,
        },
      );
    }

    const data: MetricDatum[] = [];
    if (now % 60_000 === 0) data.push(...this.flush(new Date(now - 60_000)));
    data.push(...gauges);
    for (let i = 0; i < data.length; i += 1000) {
      await clients.cloudwatch.send(
        new PutMetricDataCommand({ Namespace: NAMESPACE, MetricData: data.slice(i, i + 1000) }),
      );
    }
  }

  private accumulator(slot: Slot, role: Role): Accumulator {
    let acc = this.accumulators.get(slot);
    if (!acc) {
      acc = { requests: 0, errors: 0, components: [], unhealthyHosts: 0, hosts: 0, role };
      this.accumulators.set(slot, acc);
    }
    acc.role = role;
    return acc;
  }

  /** The minute that began at `start`, as datapoints; the samples are kept. */
  private flush(start: Date): MetricDatum[] {
    const data: MetricDatum[] = [];
    for (const slot of SLOTS) {
      const acc = this.accumulators.get(slot);
      if (!acc) continue;
      this.accumulators.delete(slot);
      const jitter = Math.exp(0.04 * this.random.normal());
      const quantile = mixtureQuantile(acc.components, this.percentile);
      const latencyMs = quantile === undefined ? undefined : Math.round(quantile * jitter * 10) / 10;
      this.minutes.push({
        at: start.toISOString(),
        slot,
        role: acc.role,
        requests: acc.requests,
        errors: acc.errors,
        ...(acc.requests > 0 ? { errorRatePercent: (100 * acc.errors) / acc.requests } : {}),
        ...(latencyMs !== undefined ? { latencyMs } : {}),
        unhealthyHosts: acc.unhealthyHosts,
        hosts: acc.hosts,
      });
      if (acc.requests === 0) continue;
      const dims = this.dimensions[slot];
      data.push(
        {
          MetricName: 'RequestCount',
          Dimensions: dims,
          Value: acc.requests,
          Unit: 'Count',
          Timestamp: start,
        },
        {
          MetricName: 'HTTPCode_Target_5XX_Count',
          Dimensions: dims,
          Value: acc.errors,
          Unit: 'Count',
          Timestamp: start,
        },
        {
          MetricName: 'TargetResponseTime',
          Dimensions: dims,
          Value: latencyMs! / 1000,
          Unit: 'Seconds',
          Timestamp: start,
        },
      );
    }
    return data;
  }
}

/** The production route's weights and each slot's task set, read from moto. */
export async function readRoute(
  clients: WorkloadOptions['clients'],
  service: ServiceConfig,
): Promise<RouteState> {
  const [actions, described] = await Promise.all([
    service.listener.ruleArn
      ? clients.elb
          .send(new DescribeRulesCommand({ RuleArns: [service.listener.ruleArn] }))
          .then((out) => out.Rules?.[0]?.Actions)
      : clients.elb
          .send(new DescribeListenersCommand({ ListenerArns: [service.listener.arn] }))
          .then((out) => out.Listeners?.[0]?.DefaultActions),
    clients.ecs.send(
      new DescribeServicesCommand({ cluster: service.cluster, services: [service.ecsService] }),
    ),
  ]);
  const groups =
    (actions ?? ([] as Action[])).find((a) => a.Type === 'forward')?.ForwardConfig?.TargetGroups ?? [];
  const weight = (slot: Slot) =>
    groups.find((g) => g.TargetGroupArn === service.targetGroups[slot])?.Weight ?? 0;
  const ecsService = described.services?.[0];
  const desired = ecsService?.desiredCount ?? 0;
  const taskSets: Partial<Record<Slot, { arn: string; hosts: number }>> = {};
  for (const ts of ecsService?.taskSets ?? []) {
    const tg = ts.loadBalancers?.[0]?.targetGroupArn;
    const slot = SLOTS.find((s) => service.targetGroups[s] === tg);
    if (!slot || !ts.taskSetArn) continue;
    const hosts = Math.ceil((desired * (ts.scale?.value ?? 0)) / 100);
    taskSets[slot] = { arn: ts.taskSetArn, hosts };
  }
  return { weights: { blue: weight('blue'), green: weight('green') }, taskSets };
}

/** Dimensions in the one order the local cloud writes and reads them: by name, then value. */
export function canonicalDimensions<D extends { readonly Name?: string; readonly Value?: string }>(
  dims: readonly D[],
): D[] {
  return [...dims].sort(
    (a, b) => (a.Name ?? '').localeCompare(b.Name ?? '') || (a.Value ?? '').localeCompare(b.Value ?? ''),
  );
}

/**
 * Fills three gaps of moto's GetMetricData on a client (the handlers'): percentile statistics are read as `Maximum`
 * of the one datapoint per minute the workload model publishes, StartTime is rounded down to the whole minute as
 * CloudWatch rounds it, and dimensions are listed in the order the local cloud writes them. Idempotent.
 */
export function installCloudWatchReadFixes(client: CloudWatchClient): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (String(context.commandName).replace(/Command$/, '') !== 'GetMetricData') return next(args);
      const input = args.input as {
        StartTime?: Date;
        MetricDataQueries?: {
          MetricStat?: { Stat?: string; Metric?: { Dimensions?: { Name?: string; Value?: string }[] } };
        }[];
      };
      const start = input.StartTime ? new Date(input.StartTime) : undefined;
      const fixed = {
        ...input,
        // dimensions listed by name, as everything the local cloud writes lists them (see canonicalDimensions)
        ...(start ? { StartTime: new Date(Math.floor(start.getTime() / 60_000) * 60_000) } : {}),
        MetricDataQueries: input.MetricDataQueries?.map((q) => {
          if (!q.MetricStat) return q;
          const stat = q.MetricStat.Stat;
          const metric = q.MetricStat.Metric;
          return {
            ...q,
            MetricStat: {
              ...q.MetricStat,
              ...(metric?.Dimensions
                ? { Metric: { ...metric, Dimensions: canonicalDimensions(metric.Dimensions) } }
                : {}),
              ...(stat && percentileOfStatistic(stat) !== undefined ? { Stat: 'Maximum' } : {}),
            },
          };
        }),
      };
      return next({ ...args, input: fixed });
    },
    { step: 'initialize', name: 'localcloudGetMetricDataFixes', override: true },
  );
}
