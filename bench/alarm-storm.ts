/**
 * Alarm storm: a thousand alarm events for a hundred services, delivered to the rollback handler all at once.
 * Exactly one rollback per service with an active deployment, one ignored record per distinct event of a service
 * without one, and nothing else.
 */
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { DescribeExecutionCommand, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { stateMachineName } from '../lambdas/domain/naming';
import { make as makeRollback } from '../lambdas/handlers/rollback';
import { loadConfigFile } from '../lib/config/load';
import type { LocalCloud } from '../localcloud';
import { destroyClients, localClients, type LocalClients } from '../localcloud/clients';
import { listenerWeights } from '../localcloud/testing';
import { isWrite, recordCalls, refusedByCondition, writtenItems, type AwsCall } from './support/calls';
import { alarmEvent, ENVIRONMENT, manyServices, release, withCloud } from './support/cloud';
import { ms, seconds, summarize, table } from './support/stats';
import type { Benchmark, BenchContext, SectionOutput } from './support/types';

const SERVICES = 100;
const ACTIVE = 80;
const EVENTS_PER_SERVICE = 10;
/** Of each service's events, the last ones are redeliveries of its first ones (EventBridge delivers at least once). */
const REDELIVERED = 2;
/** Resources of the stack per service and alarm kind: one alarm per slot. */
const ALARMS_PER_KIND = 2;
const CLOUDFORMATION_RESOURCE_LIMIT = 500;
/**
 * Deployments validated and locked at a time while setting up. One: moto answers 500 to TransactWriteItems
 * while another transaction runs (it copies every table to roll back), and the lock is a transaction.
 */
const LOCK_CONCURRENCY = 1;

export const benchmark: Benchmark = {
  id: 'alarm-storm',
  title: 'Alarm storm',
  budgetMs: 240_000,
  run,
};

async function run(ctx: BenchContext): Promise<SectionOutput> {
  // One alarm kind per service: with all three, the stack of a hundred services exceeds CloudFormation's limit.
  const config = manyServices(loadConfigFile(), SERVICES, {
    errorRate: true,
    latency: false,
    unhealthyHosts: false,
  });
  let cloud: LocalCloud | undefined;
  let own: LocalClients | undefined;
  let recording: AwsCall[] | undefined;
  const t0 = performance.now();
  try {
    return await withCloud(
      {
        environment: ENVIRONMENT,
        config,
        logLevel: 'SILENT',
        // No status-change events: the reconciler would only find each of these deployments already ended.
        statusEvents: [],
        handlers: {
          rollback: (deps) => {
            const env = cloud!.config.environments.find((e) => e.name === ENVIRONMENT)!;
            own = localClients({ endpoint: cloud!.moto.endpoint, region: env.region });
            for (const client of [own.dynamodb, own.elb, own.ecs, own.sns, deps.sfn])
              recordCalls(client, () => recording);
            return makeRollback({
              ...deps,
              dynamodb: own.dynamodb,
              elb: own.elb,
              ecs: own.ecs,
              sns: own.sns,
            });
          },
        },
      },
      async (c) => {
        cloud = c;
        const provisionMs = performance.now() - t0;
        ctx.log(`${SERVICES} services provisioned in ${seconds(provisionMs)} (${JSON.stringify(c.timings)})`);
        const services = c.config.environments.find((e) => e.name === ENVIRONMENT)!.services;
        const active = services.slice(0, ACTIVE);

        // Active deployments as the state machine leaves them after its Lock step: an execution (in moto, which
        // never runs it; the rollback stops it there), a record, the service's lock and its alarms marked.
        const t1 = performance.now();
        const env = c.config.environments.find((e) => e.name === ENVIRONMENT)!;
        const canary = c.runner.stateMachines.find(
          (m) => m.name === stateMachineName(c.config.project, ENVIRONMENT, 'canary'),
        );
        if (!canary) throw new Error('no canary state machine in the local cloud');
        const executions = await inBatches(active, LOCK_CONCURRENCY, async (s, i) => {
          const input = release(s.name, `public.ecr.aws/nginx/nginx:storm-${i}`);
          const name = `storm-${s.name}`;
          const out = await c.clients.sfn.send(
            new StartExecutionCommand({ stateMachineArn: canary.arn, name, input: JSON.stringify(input) }),
          );
          const deployment = await c.handlers.invoke('validate', {
            strategy: 'canary',
            input,
            execution: { arn: out.executionArn!, name, startTime: c.clock.now().toISOString() },
          });
          await c.handlers.invoke('lock', { deployment });
          return out.executionArn!;
        });
        const lockMs = performance.now() - t1;
        ctx.log(`${ACTIVE} deployments validated and locked in ${seconds(lockMs)} (${env.name})`);
        if (ctx.signal.aborted) throw new Error('aborted before the storm');

        const events = stormEvents(
          c,
          services.map((s) => s.name),
        );
        recording = [];
        const latencies: number[] = [];
        const t2 = performance.now();
        const settled = await Promise.allSettled(
          events.map(async ({ service, event }) => {
            const sent = performance.now();
            const result = (await c.handlers.invoke('rollback', event)) as { outcome: string };
            latencies.push(performance.now() - sent);
            return { service, eventId: event.id, outcome: result.outcome };
          }),
        );
        const stormMs = performance.now() - t2;
        const calls = recording;
        recording = undefined;
        ctx.log(`${events.length} events handled in ${seconds(stormMs)}`);

        const stopped = await Promise.all(
          executions.map(
            async (executionArn) =>
              (await c.clients.sfn.send(new DescribeExecutionCommand({ executionArn }))).status,
          ),
        );
        const records = await rollbackRecords(c);
        const restored = await Promise.all(
          active.map(async (s) => {
            const w = await listenerWeights(c, s.name);
            return w.blue === 100 || w.green === 100;
          }),
        );
        return report({
          settled,
          activeNames: new Set(active.map((s) => s.name)),
          calls,
          records,
          stormMs,
          latencies,
          provisionMs,
          timings: c.timings,
          lockMs,
          aborted: stopped.filter((status) => status === 'ABORTED').length,
          restored: restored.filter(Boolean).length,
          resources: Object.keys(c.template.Resources).length,
        });
      },
    );
  } finally {
    if (own) destroyClients(own);
  }
}

/** `work` over `items`, at most `concurrency` at a time, results in order. */
async function inBatches<T, R>(
  items: readonly T[],
  concurrency: number,
  work: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        results[i] = await work(items[i]!, i);
      }
    }),
  );
  return results;
}

/** Each service's events: its alarms in turn, the last REDELIVERED being its first ones again; interleaved. */
function stormEvents(cloud: LocalCloud, services: readonly string[]) {
  const events = services.flatMap((service) =>
    Array.from({ length: EVENTS_PER_SERVICE }, (_, k) => {
      const distinct = k < EVENTS_PER_SERVICE - REDELIVERED ? k : k - (EVENTS_PER_SERVICE - REDELIVERED);
      const slot = distinct % 2 === 0 ? 'green' : 'blue';
      return {
        service,
        event: alarmEvent(
          cloud,
          `${service}-${ENVIRONMENT}-error-rate-${slot}`,
          `storm-${service}-${distinct}`,
        ),
      };
    }),
  );
  // A fixed shuffle (linear congruential), so that every run delivers in the same order.
  let seed = 7;
  for (let i = events.length - 1; i > 0; i--) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    const j = seed % (i + 1);
    [events[i], events[j]] = [events[j]!, events[i]!];
  }
  return events;
}

async function rollbackRecords(cloud: LocalCloud): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  const doc = DynamoDBDocumentClient.from(cloud.clients.dynamodb);
  let start: Record<string, unknown> | undefined;
  do {
    const out = await doc.send(
      new ScanCommand({ TableName: cloud.deps.tableName, ExclusiveStartKey: start }),
    );
    items.push(...(out.Items ?? []));
    start = out.LastEvaluatedKey;
  } while (start);
  return items.filter((i) => i.kind === 'ROLLBACK');
}

function report(r: {
  settled: PromiseSettledResult<{ service: string; eventId: string; outcome: string }>[];
  activeNames: ReadonlySet<string>;
  calls: readonly AwsCall[];
  records: readonly Record<string, unknown>[];
  stormMs: number;
  latencies: readonly number[];
  provisionMs: number;
  timings: LocalCloud['timings'];
  lockMs: number;
  aborted: number;
  restored: number;
  resources: number;
}): SectionOutput {
  const outcomes = new Map<string, number>();
  /** By service, the distinct events whose delivery ran a rollback (a redelivery is the same event). */
  const rollbacksOf = new Map<string, Set<string>>();
  const errors: string[] = [];
  for (const s of r.settled) {
    if (s.status === 'rejected') {
      errors.push(String((s.reason as Error)?.message ?? s.reason));
      outcomes.set('error', (outcomes.get('error') ?? 0) + 1);
      continue;
    }
    outcomes.set(s.value.outcome, (outcomes.get(s.value.outcome) ?? 0) + 1);
    if (s.value.outcome === 'rolled-back')
      rollbacksOf.set(s.value.service, (rollbacksOf.get(s.value.service) ?? new Set()).add(s.value.eventId));
  }
  const exactlyOnce = [...r.activeNames].every((name) => rollbacksOf.get(name)?.size === 1);
  const rollbacks = [...rollbacksOf.values()].reduce((n, ids) => n + ids.size, 0);
  const idleRolledBack = [...rollbacksOf.keys()].filter((name) => !r.activeNames.has(name)).length;
  const byOutcome = (o: string) => r.records.filter((x) => x.outcome === o).length;
  const writes = r.calls.filter(isWrite);
  const refused = r.calls.filter(refusedByCondition);
  const faults = r.calls.filter((c) => c.failed && !refusedByCondition(c));
  const kinds = (calls: readonly AwsCall[]) =>
    [
      ...new Set(
        calls.map((c) => `${c.command} ${c.error?.status ?? ''} ${c.error?.name ?? ''}`.replace(/\s+/g, ' ')),
      ),
    ].join(', ');
  const latency = summarize([...r.latencies]);
  const idle = SERVICES - ACTIVE;
  const distinctIdleEvents = idle * (EVENTS_PER_SERVICE - REDELIVERED);
  const rolledBack = outcomes.get('rolled-back') ?? 0;
  const notifications = r.calls.filter((c) => c.service === 'SNS' && c.command === 'Publish').length;
  const ignored = outcomes.get('ignored') ?? 0;
  const handled = outcomes.get('already-handled') ?? 0;
  const allKindsResources = r.resources + SERVICES * 2 * ALARMS_PER_KIND;
  const correct =
    exactlyOnce &&
    rollbacks === ACTIVE &&
    idleRolledBack === 0 &&
    (outcomes.get('error') ?? 0) === 0 &&
    byOutcome('RESTORED') === ACTIVE &&
    byOutcome('IGNORED') === distinctIdleEvents;

  const figures = [
    {
      label: `rollbacks (${ACTIVE} of ${SERVICES} services deploying)`,
      value: `${rollbacks}, one per deploying service: ${exactlyOnce ? 'yes' : 'no'}; idle services rolled back: ${idleRolledBack}`,
      goal: 'exactly one per deploying service',
      met: correct,
    },
    {
      label: 'events: rolled back / already handled / ignored / failed',
      value: `${rolledBack} / ${handled} / ${ignored} / ${outcomes.get('error') ?? 0} of ${r.settled.length}`,
    },
    {
      label: 'rollback records: RESTORED / IGNORED / FAILED',
      value: `${byOutcome('RESTORED')} / ${byOutcome('IGNORED')} / ${byOutcome('FAILED')} (expected ${ACTIVE} / ${distinctIdleEvents} / 0)`,
    },
    {
      label: 'storm wall time (1,000 events at once)',
      value: `${seconds(r.stormMs)}; per event median ${ms(latency.median)}, p99 ${ms(latency.p99)}`,
    },
    { label: `provisioning ${SERVICES} services in moto`, value: seconds(r.provisionMs) },
  ];
  const markdown = [
    `**How.** A config with ${SERVICES} services in \`staging\`, each shaped like \`checkout\` with its own`,
    `listener and target groups, provisioned in moto by \`LocalCloud.start\`. ${ACTIVE} of them get an active`,
    "deployment as a canary's execution has it after its Lock step: an execution started in moto, then the real",
    '`validate` and `lock` handlers (record, service lock, alarms marked with the deployment). The other',
    `${idle} have none. Then ${r.settled.length} alarm events, ${EVENTS_PER_SERVICE} per service (its`,
    `alarms in turn; the last ${REDELIVERED} redeliver the first ${REDELIVERED}, same event id, as EventBridge may), shuffled, are`,
    "handed to the rollback handler all at once (`Promise.allSettled` over `cloud.handlers.invoke('rollback', …)`;",
    "one Node process, the handler's clients sharing their connection pools, as one container would not: in",
    'Lambda each concurrent event gets its own). Afterwards: outcomes returned, the rollback records in the',
    "table, the listeners and the executions' status read from moto.",
    '',
    ...table(
      ['', 'figure'],
      [
        ['events delivered', String(r.settled.length)],
        [
          'rollbacks (distinct events that claimed one)',
          `${rollbacks} (expected ${ACTIVE}: one per deploying service)`,
        ],
        [
          'outcome rolled-back',
          `${rolledBack} (${rolledBack - rollbacks} of them redeliveries of the claiming event, which the handler resumes as the same owner)`,
        ],
        ['outcome already-handled', `${handled} (the other alarms of a service being or just rolled back)`],
        [
          'outcome ignored',
          `${ignored} (expected ${idle * EVENTS_PER_SERVICE}: every event of an idle service)`,
        ],
        ['handler failures', String(outcomes.get('error') ?? 0)],
        [
          'records RESTORED / IGNORED / FAILED',
          `${byOutcome('RESTORED')} / ${byOutcome('IGNORED')} / ${byOutcome('FAILED')}`,
        ],
        [
          'DynamoDB write requests / items by the handler',
          `${writes.length} / ${writes.reduce((n, c) => n + writtenItems(c), 0)}`,
        ],
        [
          'AWS calls by the handler',
          `${r.calls.length} (${(r.calls.length / (r.stormMs / 1000)).toFixed(0)} per second served by moto)`,
        ],
        [
          'conditional writes refused (the claims and locks doing their job)',
          `${refused.length}${refused.length ? ` (${kinds(refused)})` : ''}`,
        ],
        [
          'other failed calls (moto faults under concurrent transactions; the handler retries)',
          `${faults.length}${faults.length ? ` (${kinds(faults)})` : ''}`,
        ],
        ['notifications published (SNS)', `${notifications} (expected ${ACTIVE}: one per rollback)`],
        ['executions stopped (ABORTED in moto)', `${r.aborted} / ${ACTIVE}`],
        ['deploying services with 100 % on one slot after', `${r.restored} / ${ACTIVE}`],
        ['storm wall time', seconds(r.stormMs)],
        [
          'per event, dispatch → result: median / p99 / max',
          `${ms(latency.median)} / ${ms(latency.p99)} / ${ms(latency.max)}`,
        ],
        [
          `provisioning ${SERVICES} services (cloud start)`,
          `${seconds(r.provisionMs)}: moto ${ms(r.timings.motoStart)}, warm-up ${ms(r.timings.warmUp)}, application ${ms(r.timings.application)}, synth ${ms(r.timings.synth)}${r.timings.synthCached ? ' (cached)' : ''}, controller ${ms(r.timings.controller)}`,
        ],
        [`${ACTIVE} deployments validated and locked (one at a time)`, seconds(r.lockMs)],
      ],
    ),
    '',
    `**Scale limit found.** The stack of ${SERVICES} services has ${r.resources} resources with one alarm kind; with`,
    `all three (the default) it would have ${allKindsResources}, over CloudFormation's ${CLOUDFORMATION_RESOURCE_LIMIT} per stack, and \`cdk synth\``,
    'refuses it. Each service adds two alarms per kind (one per slot): with the defaults, one environment stack',
    `holds about ${Math.floor((CLOUDFORMATION_RESOURCE_LIMIT - (r.resources - SERVICES * ALARMS_PER_KIND)) / (3 * ALARMS_PER_KIND))} services. This storm therefore watches one alarm kind per service.`,
    ...(rolledBack > rollbacks
      ? [
          '',
          `**Redeliveries during a rollback.** ${rolledBack - rollbacks} events were redeliveries (same event id) of the event`,
          "that claimed a service's rollback, arriving while that rollback was still running. The handler takes the",
          'same event for the same owner resuming after a crash, and runs the rollback again: traffic, stop, capacity',
          'and records are idempotent (still one RESTORED record per service), but each such run published its own',
          `notification: ${notifications} for ${rollbacks} rollbacks.`,
        ]
      : []),
    ...(errors.length > 0 ? ['', `First failures: ${[...new Set(errors)].slice(0, 3).join('; ')}`] : []),
  ];
  return {
    figures,
    markdown,
    data: {
      outcomes: Object.fromEntries(outcomes),
      records: {
        restored: byOutcome('RESTORED'),
        ignored: byOutcome('IGNORED'),
        failed: byOutcome('FAILED'),
      },
      stormMs: r.stormMs,
      latency,
      provisionMs: r.provisionMs,
      lockMs: r.lockMs,
      resources: r.resources,
      errors: [...new Set(errors)].slice(0, 5),
      refusedByCondition: refused.length,
      faults: faults.length,
    },
  };
}
