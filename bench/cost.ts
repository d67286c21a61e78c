/**
 * Cost per deployment: one healthy deployment per strategy with its default options, counted from the local run
 * (state transitions from the execution's history, Lambda invocations and their durations from the handlers,
 * DynamoDB items and request units from the handlers' client), priced at list prices.
 */
import { ScanCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import type { LocalCloud } from '../localcloud';
import { builtInScenario } from '../localcloud/scenarios';
import { runSimulation, simulationCloudOptions } from '../localcloud/simulation';
import { DEPLOYMENT_KINDS } from '../statemachines/index';
import {
  isRead,
  isWrite,
  itemSize,
  keyOf,
  readUnits,
  recordCalls,
  writeUnits,
  writtenItems,
  type AwsCall,
} from './support/calls';
import { ENVIRONMENT, handlerNames, SERVICE, timedHandlers, withCloud } from './support/cloud';
import { ms, seconds, table, usd } from './support/stats';
import type { Benchmark, BenchContext, SectionOutput } from './support/types';

/** List prices (US East (N. Virginia); eu-west-1, where the sample config deploys, lists the same for these). */
export const PRICES = {
  /** Step Functions Standard workflows, per state transition. */
  stateTransition: 0.025 / 1000,
  /** Lambda on arm64 (Graviton), per GB-second of duration (first pricing tier). */
  lambdaGbSecond: 0.0000133334,
  /** Lambda, per request. */
  lambdaRequest: 0.2 / 1_000_000,
  /** The functions' memory (the house function's default). */
  lambdaMemoryGb: 256 / 1024,
  /** DynamoDB on-demand, per write request unit. */
  writeRequestUnit: 0.625 / 1_000_000,
  /** DynamoDB on-demand, per read request unit. */
  readRequestUnit: 0.125 / 1_000_000,
  /** CloudWatch GetMetricData, per metric requested. */
  metricRequested: 0.01 / 1000,
  /** SNS, per publish (64 KB chunk). */
  snsPublish: 0.5 / 1_000_000,
} as const;

interface StrategyCost {
  readonly strategy: string;
  readonly status: string;
  readonly simulatedSeconds: number;
  readonly wallMs: number;
  readonly transitions: number;
  readonly taskStates: number;
  readonly retries: number;
  readonly invocations: number;
  readonly invocationsByHandler: Record<string, number>;
  readonly meanDurationMs: number;
  readonly billedMs: number;
  readonly writeRequests: number;
  readonly writeItems: number;
  readonly writeUnits: number;
  readonly readRequests: number;
  readonly readUnits: number;
  readonly metricsRequested: number;
  readonly snsPublishes: number;
  readonly awsCalls: number;
  readonly usd: {
    readonly stepFunctions: number;
    readonly lambda: number;
    readonly dynamodb: number;
    readonly other: number;
    readonly total: number;
  };
}

export const benchmark: Benchmark = {
  id: 'cost',
  title: 'Cost per deployment',
  budgetMs: 120_000,
  run,
};

async function run(ctx: BenchContext): Promise<SectionOutput> {
  const scenario = builtInScenario('healthy');
  const base = simulationCloudOptions({
    environment: ENVIRONMENT,
    service: SERVICE,
    scenario,
    logLevel: 'SILENT',
  });
  let calls: AwsCall[] | undefined;
  let invocations: { name: string; ms: number }[] | undefined;
  return withCloud(
    {
      ...base,
      handlers: timedHandlers(handlerNames(), (name, took) => invocations?.push({ name, ms: took })),
      configureHandlerClients: (clients) => {
        base.configureHandlerClients?.(clients);
        for (const c of [
          clients.dynamodb,
          clients.ecs,
          clients.elb,
          clients.sfn,
          clients.sns,
          clients.cloudwatch,
        ])
          recordCalls(c, () => calls);
      },
    },
    async (cloud) => {
      const results: StrategyCost[] = [];
      for (const strategy of DEPLOYMENT_KINDS) {
        if (ctx.signal.aborted) throw new Error('aborted');
        calls = [];
        invocations = [];
        const sim = await runSimulation(cloud, { scenario, strategy, warmupSeconds: 60, cooldownSeconds: 0 });
        const recorded = calls;
        const invoked = invocations;
        calls = undefined;
        invocations = undefined;
        const history = (await cloud.runner.result(sim.execution.arn))?.history ?? [];
        results.push(costOf(strategy, sim, history, recorded, invoked, await itemSizes(cloud)));
        ctx.log(`${strategy}: ${sim.outcome}, ${results.at(-1)!.transitions} transitions`);
      }
      return report(results);
    },
  );
}

/** The size of every item in the table now, by key. */
async function itemSizes(cloud: LocalCloud): Promise<Map<string, number>> {
  const sizes = new Map<string, number>();
  let start: Record<string, AttributeValue> | undefined;
  do {
    const out = await cloud.clients.dynamodb.send(
      new ScanCommand({ TableName: cloud.deps.tableName, ExclusiveStartKey: start }),
    );
    for (const item of out.Items ?? []) sizes.set(keyOf({ pk: item.pk, sk: item.sk }), itemSize(item));
    start = out.LastEvaluatedKey;
  } while (start);
  return sizes;
}

function costOf(
  strategy: string,
  sim: Awaited<ReturnType<typeof runSimulation>>,
  history: readonly { type: string; stateType?: string }[],
  calls: readonly AwsCall[],
  invoked: readonly { name: string; ms: number }[],
  sizes: ReadonlyMap<string, number>,
): StrategyCost {
  const entered = history.filter((h) => h.type === 'StateEntered');
  const writes = calls.filter(isWrite);
  const reads = calls.filter(isRead);
  const units = writes.reduce((n, c) => n + writeUnits(c, (k) => sizes.get(k)), 0);
  const rru = reads.reduce((n, c) => n + readUnits(c), 0);
  const metrics = calls
    .filter((c) => c.command === 'GetMetricData')
    .reduce((n, c) => n + ((c.input?.MetricDataQueries as unknown[] | undefined)?.length ?? 0), 0);
  const publishes = calls.filter((c) => c.service === 'SNS' && c.command === 'Publish').length;
  const billedMs = invoked.reduce((n, i) => n + Math.ceil(i.ms), 0);
  const byHandler: Record<string, number> = {};
  for (const i of invoked) byHandler[i.name] = (byHandler[i.name] ?? 0) + 1;
  const stepFunctions = entered.length * PRICES.stateTransition;
  const lambda =
    invoked.length * PRICES.lambdaRequest + (billedMs / 1000) * PRICES.lambdaMemoryGb * PRICES.lambdaGbSecond;
  const dynamodb = units * PRICES.writeRequestUnit + rru * PRICES.readRequestUnit;
  const other = metrics * PRICES.metricRequested + publishes * PRICES.snsPublish;
  return {
    strategy,
    status: sim.outcome,
    simulatedSeconds: Math.round(
      (Date.parse(sim.execution.stoppedAt) - Date.parse(sim.execution.startedAt)) / 1000,
    ),
    wallMs: sim.wallMs,
    transitions: entered.length,
    taskStates: entered.filter((h) => h.stateType === 'Task').length,
    retries: history.filter((h) => h.type === 'StateRetried').length,
    invocations: invoked.length,
    invocationsByHandler: byHandler,
    meanDurationMs: invoked.reduce((n, i) => n + i.ms, 0) / (invoked.length || 1),
    billedMs,
    writeRequests: writes.length,
    writeItems: writes.reduce((n, c) => n + writtenItems(c), 0),
    writeUnits: units,
    readRequests: reads.length,
    readUnits: rru,
    metricsRequested: metrics,
    snsPublishes: publishes,
    awsCalls: calls.length,
    usd: { stepFunctions, lambda, dynamodb, other, total: stepFunctions + lambda + dynamodb + other },
  };
}

function report(results: readonly StrategyCost[]): SectionOutput {
  const figures = results.map((r) => ({
    label: `${r.strategy}: per deployment`,
    value: `${usd(r.usd.total)} (${r.transitions} transitions, ${r.invocations} invocations, ${r.writeItems} DynamoDB items written)`,
  }));
  const perThousand = results.map((r) => `${r.strategy} ${usd(r.usd.total * 1000)}`).join(', ');
  const markdown = [
    '**How.** One local cloud (`staging`, the workload model sending healthy traffic to `checkout`, as',
    '`envctl simulate` does); one deployment per strategy, one after another, each with its default options from',
    "the config (canary: `checkout`'s steps 10, 50, 100 and 300 s bakes; rolling: 25 % steps; blue-green: one step;",
    'health checks every 60 s, 300 s termination wait). Counted per deployment: *state transitions* are the',
    "execution history's `StateEntered` events (a Standard workflow bills each); *Lambda invocations* are the",
    'handler calls (every Task state that ran), timed in-process; *DynamoDB* items and request units come from',
    "middleware on the handlers' DynamoDB client (a transaction's every item counts, twice in request units as",
    'DynamoDB bills transactions; an updated item is sized as it is at the end, an upper bound).',
    '',
    ...table(
      ['', ...results.map((r) => r.strategy)],
      [
        ['outcome', ...results.map((r) => r.status)],
        ['simulated duration', ...results.map((r) => seconds(r.simulatedSeconds * 1000))],
        ['state transitions', ...results.map((r) => String(r.transitions))],
        ['of which Task states (Lambda)', ...results.map((r) => String(r.taskStates))],
        ['retries', ...results.map((r) => String(r.retries))],
        ['Lambda invocations', ...results.map((r) => String(r.invocations))],
        ['mean duration, measured locally', ...results.map((r) => ms(r.meanDurationMs))],
        ['DynamoDB write requests / items', ...results.map((r) => `${r.writeRequests} / ${r.writeItems}`)],
        ['DynamoDB write request units', ...results.map((r) => String(r.writeUnits))],
        ['DynamoDB read requests / read units', ...results.map((r) => `${r.readRequests} / ${r.readUnits}`)],
        ['CloudWatch metrics requested (GetMetricData)', ...results.map((r) => String(r.metricsRequested))],
        ['SNS publishes', ...results.map((r) => String(r.snsPublishes))],
        ['AWS calls by the handlers', ...results.map((r) => String(r.awsCalls))],
        ['Step Functions', ...results.map((r) => usd(r.usd.stepFunctions))],
        ['Lambda (requests + duration)', ...results.map((r) => usd(r.usd.lambda))],
        ['DynamoDB', ...results.map((r) => usd(r.usd.dynamodb))],
        ['CloudWatch metrics + SNS', ...results.map((r) => usd(r.usd.other))],
        ['**total per deployment**', ...results.map((r) => `**${usd(r.usd.total)}**`)],
      ],
    ),
    '',
    `Per 1,000 deployments: ${perThousand}.`,
    '',
    '**Prices used** (list prices, US East; no free tier): Step Functions Standard $0.025 per 1,000 state',
    'transitions; Lambda arm64 $0.0000133334 per GB-second (= $0.0000000133 per ms per GB, so $0.0000000033 per',
    "ms at the functions' 256 MB) and $0.20 per million requests, with each invocation's locally measured",
    'duration rounded up to the millisecond; DynamoDB on demand $0.625 per million write request units and',
    '$0.125 per million read request units; CloudWatch GetMetricData $0.01 per 1,000 metrics requested; SNS',
    '$0.50 per million publishes. The durations are against moto on loopback; against AWS, each call takes',
    'longer (ELB and ECS calls tens of milliseconds), so Lambda duration is the least certain line, and still',
    'a small one. Not counted: CloudWatch Logs ingestion and X-Ray traces of the invocations, the alarms',
    'themselves ($0.10 per alarm-month, six per service, not per deployment), and EventBridge (AWS service',
    'events are free). Invocations by handler:',
    '',
    ...table(
      ['handler', ...results.map((r) => r.strategy)],
      [...new Set(results.flatMap((r) => Object.keys(r.invocationsByHandler)))]
        .sort()
        .map((h) => [h, ...results.map((r) => String(r.invocationsByHandler[h] ?? 0))]),
    ),
  ];
  return { figures, markdown, data: results };
}
