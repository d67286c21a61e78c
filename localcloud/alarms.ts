/**
 * Alarm evaluation with CloudWatch's semantics, over the metrics in moto (moto stores alarms but never evaluates
 * them). The alarms are the template's `AWS::CloudWatch::Alarm` resources, never a copy: single-metric alarms
 * (`Statistic` or `ExtendedStatistic`) and metric-math alarms (`Metrics` with MetricStat queries and one
 * expression returning data).
 *
 * Every simulated minute, for each alarm:
 * 1. Its datapoints over an evaluation range of `EvaluationPeriods + 2` periods ending at the last whole period
 *    are read from moto with GetMetricData (one call per period length). Percentile statistics are read as
 *    `Maximum` of the one per-minute datapoint the workload model publishes (see workload.ts); metric math is
 *    evaluated here (moto does not), per timestamp; a timestamp missing in an operand is missing in the result.
 *    Dimensions are queried in the order the workload model writes them (moto matches them only in one order).
 * 2. The `EvaluationPeriods` most recent datapoints present in the range are compared with the threshold. If there
 *    are fewer, `TreatMissingData` decides: `breaching` counts each missing one as breaching, `notBreaching` as
 *    not; `missing` and `ignore` evaluate the ones present: ALARM when `DatapointsToAlarm` of them breach, OK
 *    when too many are fine for that ever to happen, and otherwise the state stays (CloudWatch's guard against
 *    premature transitions); with no datapoint at all, `missing` goes to INSUFFICIENT_DATA and `ignore` stays.
 * 3. A change of state is set in moto (SetAlarmState, so that DescribeAlarms shows it to the health gate) and
 *    published as the "CloudWatch Alarm State Change" event, which reaches the handlers only through the rules
 *    whose synthesized patterns match it (the stack's alarm rule matches going into ALARM).
 */
import {
  DescribeAlarmsCommand,
  GetMetricDataCommand,
  SetAlarmStateCommand,
  type CloudWatchClient,
  type MetricDataQuery,
} from '@aws-sdk/client-cloudwatch';
import type { SimulatedClock } from './clock';
import type { LocalEvent, PublishResult } from './events';
import { percentileOfStatistic } from './percentiles';
import { resourcesOfType, type CfnTemplate } from './template';
import { canonicalDimensions } from './workload';

export type AlarmState = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';
export type TreatMissingData = 'breaching' | 'notBreaching' | 'ignore' | 'missing';
export type ComparisonOperator =
  | 'GreaterThanThreshold'
  | 'GreaterThanOrEqualToThreshold'
  | 'LessThanThreshold'
  | 'LessThanOrEqualToThreshold';

export interface MetricRef {
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: readonly { readonly Name: string; readonly Value: string }[];
}

/** One query of a metric-math alarm. */
export interface AlarmQuery {
  readonly id: string;
  readonly expression?: string;
  readonly metricStat?: { readonly metric: MetricRef; readonly period: number; readonly stat: string };
  readonly returnData: boolean;
}

/** A metric alarm as the template defines it. */
export interface AlarmDefinition {
  readonly logicalId: string;
  readonly name: string;
  readonly description?: string;
  readonly period: number;
  readonly evaluationPeriods: number;
  readonly datapointsToAlarm: number;
  readonly threshold: number;
  readonly comparison: ComparisonOperator;
  readonly treatMissingData: TreatMissingData;
  /** A single-metric alarm: the metric and its statistic (`Sum`, `Maximum`, `p99`, …). */
  readonly metric?: MetricRef & { readonly statistic: string };
  /** A metric-math alarm: its queries. */
  readonly queries?: readonly AlarmQuery[];
}

const COMPARISONS: Record<ComparisonOperator, { test: (v: number, t: number) => boolean; words: string }> = {
  GreaterThanThreshold: { test: (v, t) => v > t, words: 'greater than' },
  GreaterThanOrEqualToThreshold: { test: (v, t) => v >= t, words: 'greater than or equal to' },
  LessThanThreshold: { test: (v, t) => v < t, words: 'less than' },
  LessThanOrEqualToThreshold: { test: (v, t) => v <= t, words: 'less than or equal to' },
};

export class AlarmDefinitionError extends Error {
  override readonly name = 'AlarmDefinitionError';
}

// ---- definitions from the template ---------------------------------------------------------------------

/** The template's metric alarms. Properties must be plain values (the stack's are, for a given config). */
export function alarmsFromTemplate(template: CfnTemplate): AlarmDefinition[] {
  return resourcesOfType(template, 'AWS::CloudWatch::Alarm').map(([logicalId, resource]) => {
    const p = (resource.Properties ?? {}) as Record<string, unknown>;
    const str = (key: string): string | undefined => {
      const v = p[key];
      if (v === undefined) return undefined;
      if (typeof v !== 'string')
        throw new AlarmDefinitionError(`alarm ${logicalId}: ${key} is not a plain string`);
      return v;
    };
    const num = (key: string): number | undefined => {
      const v = p[key];
      if (v === undefined) return undefined;
      const n = typeof v === 'string' ? Number(v) : v;
      if (typeof n !== 'number' || Number.isNaN(n))
        throw new AlarmDefinitionError(`alarm ${logicalId}: ${key} is not a number`);
      return n;
    };
    const name = str('AlarmName') ?? logicalId;
    const comparison = str('ComparisonOperator') as ComparisonOperator;
    if (!(comparison in COMPARISONS))
      throw new AlarmDefinitionError(
        `alarm ${name}: comparison ${comparison} is not supported by the local cloud`,
      );
    const evaluationPeriods = num('EvaluationPeriods') ?? 1;
    const common = {
      logicalId,
      name,
      ...(str('AlarmDescription') !== undefined ? { description: str('AlarmDescription')! } : {}),
      evaluationPeriods,
      datapointsToAlarm: num('DatapointsToAlarm') ?? evaluationPeriods,
      threshold: num('Threshold') ?? 0,
      comparison,
      treatMissingData: (str('TreatMissingData') ?? 'missing') as TreatMissingData,
    };
    const metricsList = p.Metrics as Record<string, unknown>[] | undefined;
    if (metricsList) {
      const queries: AlarmQuery[] = metricsList.map((q) => {
        const ms = q.MetricStat as Record<string, unknown> | undefined;
        const metric = ms?.Metric as Record<string, unknown> | undefined;
        return {
          id: String(q.Id),
          ...(typeof q.Expression === 'string' ? { expression: q.Expression } : {}),
          ...(ms && metric
            ? {
                metricStat: {
                  metric: {
                    namespace: String(metric.Namespace),
                    metricName: String(metric.MetricName),
                    dimensions: (metric.Dimensions as { Name: string; Value: string }[] | undefined) ?? [],
                  },
                  period: Number(ms.Period),
                  stat: String(ms.Stat),
                },
              }
            : {}),
          returnData: q.ReturnData !== false,
        };
      });
      const returned = queries.filter((q) => q.returnData);
      if (returned.length !== 1)
        throw new AlarmDefinitionError(`alarm ${name}: exactly one query must return data`);
      const period =
        returned[0]!.metricStat?.period ??
        (typeof p.Period === 'number' ? p.Period : undefined) ??
        queries.find((q) => q.metricStat)?.metricStat?.period;
      if (!period) throw new AlarmDefinitionError(`alarm ${name}: no period`);
      return { ...common, period, queries };
    }
    const statistic = str('ExtendedStatistic') ?? str('Statistic');
    if (!statistic) throw new AlarmDefinitionError(`alarm ${name}: no statistic`);
    return {
      ...common,
      period: num('Period') ?? 60,
      metric: {
        namespace: str('Namespace') ?? '',
        metricName: str('MetricName') ?? '',
        dimensions: (p.Dimensions as { Name: string; Value: string }[] | undefined) ?? [],
        statistic,
      },
    };
  });
}

// ---- metric math ---------------------------------------------------------------------------------------

/** A time series: value by timestamp (ms). */
export type Series = ReadonlyMap<number, number>;
type Value =
  { kind: 'scalar'; value: number } | { kind: 'series'; series: Series } | { kind: 'array'; items: Value[] };

export class MetricMathError extends Error {
  override readonly name = 'MetricMathError';
}

/**
 * Evaluates a metric-math expression over series by id: numbers, ids, `+ - * /`, parentheses, and the functions
 * MAX, MIN, SUM and AVG over an array (`MAX([requests, 1])`: per timestamp) or over one series (a scalar).
 */
export function evaluateExpression(expression: string, series: ReadonlyMap<string, Series>): Series {
  const tokens =
    expression.match(/\d+(?:\.\d+)?(?:[eE][-+]?\d+)?|[A-Za-z_][A-Za-z0-9_]*|[-+*/()[\],]|\S/g) ?? [];
  let pos = 0;
  const peek = () => tokens[pos];
  const take = (expected?: string) => {
    const t = tokens[pos++];
    if (expected !== undefined && t !== expected)
      throw new MetricMathError(`expected "${expected}" in ${expression}, found ${t ?? 'the end'}`);
    return t;
  };
  const parseSum = (): Value => {
    let left = parseProduct();
    while (peek() === '+' || peek() === '-') {
      const op = take()!;
      left = binary(op, left, parseProduct());
    }
    return left;
  };
  const parseProduct = (): Value => {
    let left = parseUnary();
    while (peek() === '*' || peek() === '/') {
      const op = take()!;
      left = binary(op, left, parseUnary());
    }
    return left;
  };
  const parseUnary = (): Value => {
    if (peek() === '-') {
      take();
      return binary('*', { kind: 'scalar', value: -1 }, parseUnary());
    }
    return parseAtom();
  };
  const parseAtom = (): Value => {
    const t = take();
    if (t === undefined) throw new MetricMathError(`unexpected end of ${expression}`);
    if (t === '(') {
      const v = parseSum();
      take(')');
      return v;
    }
    if (t === '[') {
      const items: Value[] = [];
      if (peek() !== ']') {
        items.push(parseSum());
        while (peek() === ',') {
          take();
          items.push(parseSum());
        }
      }
      take(']');
      return { kind: 'array', items };
    }
    if (/^\d/.test(t)) return { kind: 'scalar', value: Number(t) };
    if (/^[A-Za-z_]/.test(t)) {
      if (peek() === '(') {
        take('(');
        const arg = parseSum();
        take(')');
        return call(t.toUpperCase(), arg);
      }
      const s = series.get(t);
      if (!s) throw new MetricMathError(`unknown id "${t}" in ${expression}`);
      return { kind: 'series', series: s };
    }
    throw new MetricMathError(`unexpected "${t}" in ${expression}`);
  };
  const result = parseSum();
  if (pos !== tokens.length) throw new MetricMathError(`unexpected "${tokens[pos]}" in ${expression}`);
  if (result.kind !== 'series') throw new MetricMathError(`${expression} does not give a time series`);
  return result.series;
}

const OPS: Record<string, (a: number, b: number) => number> = {
  '+': (a, b) => a + b,
  '-': (a, b) => a - b,
  '*': (a, b) => a * b,
  '/': (a, b) => a / b,
};

function binary(op: string, a: Value, b: Value): Value {
  const f = OPS[op]!;
  if (a.kind === 'array' || b.kind === 'array')
    throw new MetricMathError(`"${op}" does not apply to an array`);
  if (a.kind === 'scalar' && b.kind === 'scalar') return { kind: 'scalar', value: f(a.value, b.value) };
  const out = new Map<number, number>();
  if (a.kind === 'series' && b.kind === 'series') {
    for (const [t, v] of a.series) if (b.series.has(t)) out.set(t, f(v, b.series.get(t)!));
  } else if (a.kind === 'series' && b.kind === 'scalar') {
    for (const [t, v] of a.series) out.set(t, f(v, b.value));
  } else if (a.kind === 'scalar' && b.kind === 'series') {
    for (const [t, v] of b.series) out.set(t, f(a.value, v));
  }
  return { kind: 'series', series: finite(out) };
}

const REDUCERS: Record<string, (xs: number[]) => number> = {
  MAX: (xs) => Math.max(...xs),
  MIN: (xs) => Math.min(...xs),
  SUM: (xs) => xs.reduce((a, b) => a + b, 0),
  AVG: (xs) => xs.reduce((a, b) => a + b, 0) / xs.length,
};

function call(name: string, arg: Value): Value {
  const reduce = REDUCERS[name];
  if (!reduce) throw new MetricMathError(`function ${name} is not supported by the local cloud`);
  if (arg.kind === 'scalar') return arg;
  if (arg.kind === 'series') {
    const values = [...arg.series.values()];
    return values.length ? { kind: 'scalar', value: reduce(values) } : { kind: 'series', series: new Map() };
  }
  const seriesItems = arg.items.filter((i): i is { kind: 'series'; series: Series } => i.kind === 'series');
  const scalars = arg.items.flatMap((i) => (i.kind === 'scalar' ? [i.value] : []));
  if (seriesItems.length === 0) return { kind: 'scalar', value: reduce(scalars) };
  const times = new Set(seriesItems.flatMap((s) => [...s.series.keys()]));
  const out = new Map<number, number>();
  for (const t of times) {
    const xs = [...seriesItems.flatMap((s) => (s.series.has(t) ? [s.series.get(t)!] : [])), ...scalars];
    out.set(t, reduce(xs));
  }
  return { kind: 'series', series: out };
}

function finite(series: Map<number, number>): Map<number, number> {
  for (const [t, v] of series) if (!Number.isFinite(v)) series.delete(t);
  return series;
}

// ---- the state decision -----------------------------------------------------------------------------------

export interface Datapoint {
  readonly at: number;
  readonly value: number;
}

export interface Decision {
  readonly state: AlarmState;
  readonly reason: string;
  /** The datapoints considered (newest first) and which breach. */
  readonly considered: readonly (Datapoint & { readonly breaching: boolean })[];
  readonly breaching: number;
}

/**
 * The state an alarm goes to, from the datapoints present in its evaluation range (any order), its settings and
 * its current state.
 */
export function decideState(
  alarm: Pick<
    AlarmDefinition,
    'evaluationPeriods' | 'datapointsToAlarm' | 'threshold' | 'comparison' | 'treatMissingData'
  >,
  present: readonly Datapoint[],
  current: AlarmState,
): Decision {
  const { evaluationPeriods: n, datapointsToAlarm: m, threshold, comparison, treatMissingData } = alarm;
  const cmp = COMPARISONS[comparison];
  const considered = [...present]
    .sort((a, b) => b.at - a.at)
    .slice(0, n)
    .map((d) => ({ ...d, breaching: cmp.test(d.value, threshold) }));
  const breaching = considered.filter((d) => d.breaching).length;
  const missing = n - considered.length;
  const fmt = (v: number) => (Number.isInteger(v) ? v.toFixed(1) : String(Math.round(v * 1000) / 1000));
  const listed = `[${considered.map((d) => `${fmt(d.value)} (${stamp(d.at)})`).join(', ')}]`;
  const crossed = (count: number, extra = '') =>
    `Threshold Crossed: ${count} out of the last ${n} datapoints ${listed} were ${cmp.words} the threshold (${fmt(threshold)})${extra} (minimum ${m} datapoint${m === 1 ? '' : 's'} for OK -> ALARM transition).`;
  const notCrossed = (count: number) =>
    `Threshold Crossed: ${count} out of the last ${n} datapoints ${listed} ${count === 1 ? 'was' : 'were'} ${cmp.words} the threshold (${fmt(threshold)}); fewer than the ${m} needed.`;
  const result = (state: AlarmState, reason: string): Decision => ({ state, reason, considered, breaching });

  if (missing === 0 || treatMissingData === 'breaching' || treatMissingData === 'notBreaching') {
    const filled = treatMissingData === 'breaching' ? breaching + missing : breaching;
    const note =
      missing > 0
        ? ` (${missing} missing datapoint${missing === 1 ? '' : 's'} treated as ${treatMissingData})`
        : '';
    return filled >= m ? result('ALARM', crossed(filled, note)) : result('OK', notCrossed(filled));
  }
  if (considered.length === 0) {
    return treatMissingData === 'ignore'
      ? result(current, `no datapoints in the evaluation range; missing data ignored, state kept`)
      : result(
          'INSUFFICIENT_DATA',
          `Insufficient Data: no datapoints in the evaluation range of ${n} periods.`,
        );
  }
  if (breaching >= m) return result('ALARM', crossed(breaching));
  if (considered.length - breaching > n - m) return result('OK', notCrossed(breaching));
  return result(
    current,
    `${considered.length} of ${n} datapoints present, ${breaching} breaching: not enough to change state`,
  );
}

function stamp(ms: number): string {
  const d = new Date(ms);
  const pad = (x: number) => String(x).padStart(2, '0');
  return `${pad(d.getUTCDate())}/${pad(d.getUTCMonth() + 1)}/${pad(d.getUTCFullYear() % 100)} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

// ---- the evaluator -------------------------------------------------------------------------------------------

export interface AlarmTransition {
  readonly at: string;
  readonly alarmName: string;
  readonly from: AlarmState;
  readonly to: AlarmState;
  readonly reason: string;
  /** The handlers the state-change event reached, and what they answered. */
  readonly deliveries: readonly {
    readonly handler?: string;
    readonly rule: string;
    readonly error?: string;
  }[];
}

export interface AlarmEvaluatorOptions {
  readonly clock: SimulatedClock;
  readonly cloudwatch: CloudWatchClient;
  readonly publish: (event: LocalEvent) => Promise<PublishResult>;
  readonly alarms: readonly AlarmDefinition[];
  readonly region: string;
  readonly accountId: string;
  /** Ticker order on the clock (after the workload model). @default 10 */
  readonly order?: number;
}

/** Extra periods read before the evaluation periods, where the most recent datapoints present are looked for. */
const RANGE_EXTRA_PERIODS = 2;

export class AlarmEvaluator {
  readonly transitions: AlarmTransition[] = [];
  private readonly state = new Map<string, AlarmState>();
  private readonly arns = new Map<string, string>();
  private readonly reasons = new Map<string, { reason: string; at: string }>();
  private removeTicker: () => void = () => undefined;

  private constructor(private readonly options: AlarmEvaluatorOptions) {}

  /** Reads the alarms' current states from moto, then evaluates them every simulated minute until `detach`. */
  static async attach(options: AlarmEvaluatorOptions): Promise<AlarmEvaluator> {
    const evaluator = new AlarmEvaluator(options);
    const names = options.alarms.map((a) => a.name);
    for (let i = 0; i < names.length; i += 100) {
      const out = await options.cloudwatch.send(
        new DescribeAlarmsCommand({ AlarmNames: names.slice(i, i + 100) }),
      );
      for (const a of out.MetricAlarms ?? []) {
        evaluator.state.set(a.AlarmName!, (a.StateValue as AlarmState | undefined) ?? 'INSUFFICIENT_DATA');
        if (a.AlarmArn) evaluator.arns.set(a.AlarmName!, a.AlarmArn);
      }
    }
    for (const a of options.alarms)
      if (!evaluator.state.has(a.name)) evaluator.state.set(a.name, 'INSUFFICIENT_DATA');
    evaluator.removeTicker = options.clock.onTick(
      async (now) => {
        if (now.getTime() % 60_000 === 0) await evaluator.evaluate(now);
      },
      { order: options.order ?? 10 },
    );
    return evaluator;
  }

  detach(): void {
    this.removeTicker();
  }

  /** Current states by alarm name. */
  states(): ReadonlyMap<string, AlarmState> {
    return this.state;
  }

  /** Evaluates every alarm at `now`, sets changes in moto and publishes them. */
  async evaluate(now: Date): Promise<void> {
    const byPeriod = new Map<number, AlarmDefinition[]>();
    for (const a of this.options.alarms) byPeriod.set(a.period, [...(byPeriod.get(a.period) ?? []), a]);
    for (const [period, alarms] of byPeriod) {
      const end = Math.floor(now.getTime() / (period * 1000)) * period * 1000;
      const range = Math.max(...alarms.map((a) => a.evaluationPeriods)) + RANGE_EXTRA_PERIODS;
      const start = end - range * period * 1000;
      const series = await this.read(alarms, period, new Date(start), new Date(end));
      for (const [index, alarm] of alarms.entries()) {
        const own = new Map<string, Series>();
        for (const [id, s] of series)
          if (id.startsWith(`a${index}_`)) own.set(id.slice(`a${index}_`.length), s);
        const values = this.seriesOf(alarm, own);
        const alarmStart = end - (alarm.evaluationPeriods + RANGE_EXTRA_PERIODS) * period * 1000;
        const present = [...values]
          .filter(([t]) => t >= alarmStart && t < end)
          .map(([at, value]) => ({ at, value }));
        const current = this.state.get(alarm.name) ?? 'INSUFFICIENT_DATA';
        const decision = decideState(alarm, present, current);
        if (decision.state !== current) await this.transition(alarm, current, decision, now, period);
      }
    }
  }

  private seriesOf(alarm: AlarmDefinition, own: ReadonlyMap<string, Series>): Series {
    if (alarm.metric) return own.get('m') ?? new Map();
    const returned = alarm.queries!.find((q) => q.returnData)!;
    if (!returned.expression) return own.get(returned.id) ?? new Map();
    const inputs = new Map(own);
    // Expressions that other expressions use are evaluated first, in the order given.
    for (const q of alarm.queries!)
      if (q.expression && q !== returned) inputs.set(q.id, evaluateExpression(q.expression, inputs));
    return evaluateExpression(returned.expression, inputs);
  }

  /** The MetricStat series of `alarms`, ids prefixed `a<index>_`, read with one GetMetricData per 500 queries. */
  private async read(
    alarms: readonly AlarmDefinition[],
    period: number,
    start: Date,
    end: Date,
  ): Promise<Map<string, Series>> {
    const queries: MetricDataQuery[] = [];
    const stat = (s: string) => (percentileOfStatistic(s) !== undefined ? 'Maximum' : s);
    const metricQuery = (id: string, metric: MetricRef, statistic: string, p: number): MetricDataQuery => ({
      Id: id,
      MetricStat: {
        Metric: {
          Namespace: metric.namespace,
          MetricName: metric.metricName,
          Dimensions: canonicalDimensions(metric.dimensions),
        },
        Period: p,
        Stat: stat(statistic),
      },
      ReturnData: true,
    });
    alarms.forEach((alarm, index) => {
      if (alarm.metric)
        queries.push(metricQuery(`a${index}_m`, alarm.metric, alarm.metric.statistic, period));
      for (const q of alarm.queries ?? []) {
        if (q.metricStat)
          queries.push(
            metricQuery(`a${index}_${q.id}`, q.metricStat.metric, q.metricStat.stat, q.metricStat.period),
          );
      }
    });
    const out = new Map<string, Series>();
    for (let i = 0; i < queries.length; i += 500) {
      const answer = await this.options.cloudwatch.send(
        new GetMetricDataCommand({
          StartTime: start,
          EndTime: end,
          MetricDataQueries: queries.slice(i, i + 500),
        }),
      );
      for (const r of answer.MetricDataResults ?? []) {
        const s = new Map<number, number>();
        (r.Timestamps ?? []).forEach((t, k) => s.set(new Date(t).getTime(), r.Values![k]!));
        out.set(r.Id!, s);
      }
    }
    return out;
  }

  private async transition(
    alarm: AlarmDefinition,
    from: AlarmState,
    decision: Decision,
    now: Date,
    period: number,
  ): Promise<void> {
    const { region, accountId, cloudwatch, publish } = this.options;
    const at = now.toISOString();
    const reasonData = JSON.stringify({
      version: '1.0',
      queryDate: at,
      startDate: new Date(now.getTime() - alarm.evaluationPeriods * period * 1000).toISOString(),
      period,
      recentDatapoints: decision.considered.map((d) => d.value),
      threshold: alarm.threshold,
      evaluatedDatapoints: decision.considered.map((d) => ({
        timestamp: new Date(d.at).toISOString(),
        value: d.value,
      })),
    });
    await cloudwatch.send(
      new SetAlarmStateCommand({
        AlarmName: alarm.name,
        StateValue: decision.state,
        StateReason: decision.reason.slice(0, 1023),
        StateReasonData: reasonData,
      }),
    );
    this.state.set(alarm.name, decision.state);
    const previous = this.reasons.get(alarm.name);
    this.reasons.set(alarm.name, { reason: decision.reason, at });
    const arn = this.arns.get(alarm.name) ?? `arn:aws:cloudwatch:${region}:${accountId}:alarm:${alarm.name}`;
    const published = await publish({
      source: 'aws.cloudwatch',
      'detail-type': 'CloudWatch Alarm State Change',
      resources: [arn],
      time: now,
      detail: {
        alarmName: alarm.name,
        configuration: {
          ...(alarm.description ? { description: alarm.description } : {}),
          metrics: eventMetrics(alarm),
        },
        previousState: {
          value: from,
          reason: previous?.reason ?? 'Unchecked: Initial alarm creation',
          timestamp: cloudWatchTime(previous ? new Date(previous.at) : now),
        },
        state: { value: decision.state, reason: decision.reason, reasonData, timestamp: cloudWatchTime(now) },
      },
    });
    this.transitions.push({
      at,
      alarmName: alarm.name,
      from,
      to: decision.state,
      reason: decision.reason,
      deliveries: published.deliveries.map((d) => ({
        rule: d.rule,
        ...(d.handler ? { handler: d.handler } : {}),
        ...(d.error ? { error: `${d.error.name}: ${d.error.message}` } : {}),
      })),
    });
  }
}

/** `2026-01-05T09:04:00.000+0000`, the form CloudWatch's state timestamps take. */
function cloudWatchTime(d: Date): string {
  return d.toISOString().replace('Z', '+0000');
}

/** The alarm's metrics as the event's `configuration.metrics` lists them. */
function eventMetrics(alarm: AlarmDefinition): unknown[] {
  const metricStat = (metric: MetricRef, period: number, stat: string) => ({
    metric: {
      namespace: metric.namespace,
      name: metric.metricName,
      dimensions: Object.fromEntries(metric.dimensions.map((d) => [d.Name, d.Value])),
    },
    period,
    stat,
  });
  if (alarm.metric)
    return [
      {
        id: 'm1',
        metricStat: metricStat(alarm.metric, alarm.period, alarm.metric.statistic),
        returnData: true,
      },
    ];
  return alarm.queries!.map((q) => ({
    id: q.id,
    ...(q.expression ? { expression: q.expression } : {}),
    ...(q.metricStat
      ? { metricStat: metricStat(q.metricStat.metric, q.metricStat.period, q.metricStat.stat) }
      : {}),
    returnData: q.returnData,
  }));
}
