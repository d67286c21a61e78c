/**
 * Time to safety: an alarm during a canary step, delivered to the rollback handler; how many AWS calls it makes
 * before the one that restores traffic, and how long from receiving the event to that call answered, against the
 * time spent inside the AWS calls themselves (moto on loopback).
 */
import { make as makeRollback } from '../lambdas/handlers/rollback';
import { localClients, destroyClients, type LocalClients } from '../localcloud/clients';
import type { LocalCloud } from '../localcloud';
import { listenerWeights } from '../localcloud/testing';
import { recordCalls, type AwsCall } from './support/calls';
import {
  alarmEvent,
  ClockHold,
  ENVIRONMENT,
  healthyTraffic,
  readsFixed,
  release,
  SERVICE,
  within,
  withCloud,
} from './support/cloud';
import { ms, seconds, summarize, table, type Summary } from './support/stats';
import type { Benchmark, BenchContext, SectionOutput } from './support/types';

const RESTORE_COMMANDS = new Set(['ModifyListener', 'ModifyRule']);

/** One alarm handled: the calls in order and the handler's own timings, in ms from receiving the event. */
interface Sample {
  readonly calls: readonly AwsCall[];
  readonly callsBeforeRestore: number;
  readonly sequence: string;
  readonly timeToRestoreMs: number;
  /** Time inside the AWS calls up to and including the restore (whole SDK calls). */
  readonly awsMs: number;
  /** Of which on the wire to moto and parsing its answer. */
  readonly wireMs: number;
  readonly overheadMs: number;
  readonly handlerMs: number;
  readonly outcome: string;
  readonly executionStatus: string;
}

export const benchmark: Benchmark = {
  id: 'time-to-safety',
  title: 'Time to safety',
  budgetMs: 180_000,
  run,
};

async function run(ctx: BenchContext): Promise<SectionOutput> {
  let cloud: LocalCloud | undefined;
  let recording: AwsCall[] | undefined;
  let received = Number.NaN;
  let returned = Number.NaN;
  let own: LocalClients | undefined;
  const hold = new ClockHold(() => cloud!);
  const started = performance.now();
  try {
    return await withCloud(
      {
        environment: ENVIRONMENT,
        logLevel: 'SILENT',
        ...readsFixed,
        handlers: {
          'shift-traffic': hold.holdAfter('shift-traffic'),
          // The rollback handler gets clients of its own, so that its calls are recorded apart from the steps'.
          rollback: (deps) => {
            const env = cloud!.config.environments.find((e) => e.name === ENVIRONMENT)!;
            own = localClients({ endpoint: cloud!.moto.endpoint, region: env.region });
            for (const client of [own.dynamodb, own.elb, own.ecs, own.sns, deps.sfn])
              recordCalls(client, () => recording);
            const real = makeRollback({
              ...deps,
              dynamodb: own.dynamodb,
              elb: own.elb,
              ecs: own.ecs,
              sns: own.sns,
            });
            return async (event) => {
              received = performance.now();
              try {
                return await real(event);
              } finally {
                returned = performance.now();
              }
            };
          },
        },
      },
      async (c) => {
        cloud = c;
        // The candidate is ready only once its target group reports healthy hosts: traffic flows throughout.
        const stopTraffic = await healthyTraffic(c, [SERVICE]);
        ctx.log(`local cloud up in ${c.timings.total} ms; ${ctx.options.runs + 1} canaries, one alarm each`);
        const samples: Sample[] = [];
        for (let i = 0; i <= ctx.options.runs; i++) {
          if (ctx.signal.aborted) throw new Error(`aborted after ${i} runs`);
          samples.push(await once(c, i));
          if (i % 10 === 0) ctx.log(`run ${i}: ${ms(samples.at(-1)!.timeToRestoreMs)} to restore`);
        }
        stopTraffic();
        return report(samples, performance.now() - started);
      },
    );
  } finally {
    hold.release();
    if (own) destroyClients(own);
  }

  /** Starts a canary, holds it at its first traffic step, delivers one alarm, and lets the run end. */
  async function once(c: LocalCloud, i: number): Promise<Sample> {
    const held = hold.next(() => true);
    const handle = await c.runner.start({
      stateMachine: 'canary',
      input: release(SERVICE, `public.ecr.aws/nginx/nginx:bench-${i}`),
    });
    try {
      await within(held, 60_000, `canary ${i} to take its first step`);
      const weights = await listenerWeights(c, SERVICE);
      const candidate = weights.blue === 10 ? 'blue' : weights.green === 10 ? 'green' : undefined;
      if (!candidate) throw new Error(`canary ${i} is not at 10 %: ${JSON.stringify(weights)}`);
      const event = alarmEvent(c, `${SERVICE}-${ENVIRONMENT}-error-rate-${candidate}`, `bench-tts-${i}`);
      recording = [];
      const result = (await c.handlers.invoke('rollback', event)) as { outcome: string };
      const calls = recording;
      recording = undefined;
      hold.release();
      const end = await within(handle.result, 60_000, `canary ${i} to end`);
      return sampleOf(calls, received, returned, result.outcome, end.status);
    } finally {
      recording = undefined;
      hold.release();
    }
  }
}

function sampleOf(
  calls: readonly AwsCall[],
  received: number,
  returned: number,
  outcome: string,
  executionStatus: string,
): Sample {
  const at = calls.findIndex((c) => RESTORE_COMMANDS.has(c.command));
  if (at < 0) throw new Error(`the rollback handler made no listener change: ${calls.map((c) => c.command)}`);
  const restore = calls[at]!;
  const upTo = calls.slice(0, at + 1);
  const awsMs = upTo.reduce((n, c) => n + (c.end - c.start), 0);
  const timeToRestoreMs = restore.end - received;
  return {
    calls,
    // Calls that had answered before the restore was sent: the ones it waited for.
    callsBeforeRestore: calls.slice(0, at).filter((c) => c.end <= restore.start).length,
    sequence: upTo.map((c) => c.command).join(' → '),
    timeToRestoreMs,
    awsMs,
    wireMs: upTo.reduce((n, c) => n + c.wireMs, 0),
    overheadMs: timeToRestoreMs - awsMs,
    handlerMs: returned - received,
    outcome,
    executionStatus,
  };
}

function report(all: readonly Sample[], wallMs: number): SectionOutput {
  const [cold, ...warm] = all;
  if (!cold || warm.length === 0) throw new Error('no runs');
  const s = (f: (x: Sample) => number): Summary => summarize(warm.map(f));
  const restore = s((x) => x.timeToRestoreMs);
  const aws = s((x) => x.awsMs);
  const wire = s((x) => x.wireMs);
  const overhead = s((x) => x.overheadMs);
  const handler = s((x) => x.handlerMs);
  const before = new Set(warm.map((x) => x.callsBeforeRestore));
  const maxBefore = Math.max(...before);
  const sequences = [...new Set(warm.map((x) => x.sequence))];
  const rolledBack = warm.filter(
    (x) => x.outcome === 'rolled-back' && x.executionStatus === 'ABORTED',
  ).length;

  // Each command's latency across every warm run: whole SDK call, and on the wire.
  const byCommand = new Map<string, { sdk: number[]; wire: number[] }>();
  for (const x of warm)
    for (const c of x.calls) {
      const key = `${c.service} ${c.command}`;
      const entry = byCommand.get(key) ?? { sdk: [], wire: [] };
      entry.sdk.push(c.end - c.start);
      entry.wire.push(c.wireMs);
      byCommand.set(key, entry);
    }
  const perCall = [...byCommand.entries()].map(([key, v]) => {
    const sdk = summarize(v.sdk);
    const w = summarize(v.wire);
    return [key, String(v.sdk.length / warm.length), ms(sdk.median), ms(sdk.p99), ms(w.median), ms(w.p99)];
  });
  const perRunCalls = summarize(warm.map((x) => x.calls.length));

  const figures = [
    {
      label: 'AWS calls before the restoring call',
      value: `${[...before].join(', ')} (${sequences.join('; ')})`,
      goal: '≤ 2',
      met: maxBefore <= 2,
    },
    { label: 'event → traffic restored, median / p99', value: `${ms(restore.median)} / ${ms(restore.p99)}` },
    { label: 'of which inside AWS calls, median / p99', value: `${ms(aws.median)} / ${ms(aws.p99)}` },
    {
      label: 'handler overhead beyond AWS calls, median / p99',
      value: `${ms(overhead.median)} / ${ms(overhead.p99)}`,
      goal: '< 20 ms',
      met: overhead.p99 < 20,
    },
    { label: 'runs rolled back (execution ABORTED)', value: `${rolledBack} / ${warm.length}` },
  ];
  const markdown = [
    '**How.** One local cloud (`staging`, moto on loopback). Per run: a canary of `checkout` is started and held',
    'at its first traffic step (10 %) by holding the simulated clock right after `shift-traffic` returns; then an',
    'alarm event of the candidate slot, shaped as EventBridge delivers it, is handed to the rollback handler with',
    "`cloud.handlers.invoke('rollback', event)`; the clock is released and the run ends ABORTED. The handler gets",
    'DynamoDB, ELB, ECS and SNS clients of its own (its Step Functions client is the local overlay), each with',
    'middleware that records every call: the whole SDK call (what the handler awaits) and the part below the',
    "SDK's finalize step (HTTP exchange with moto and parsing). *Time to restore* runs from the handler receiving",
    'the event to the listener change answered; *overhead* is that minus the time inside the AWS calls up to and',
    `including the restore. ${warm.length} measured runs after one warm-up run (the first invocation builds the`,
    'handler and its clients).',
    '',
    ...table(
      ['', 'median', 'p99', 'max'],
      [
        ['event → traffic restored', ms(restore.median), ms(restore.p99), ms(restore.max)],
        ['inside AWS calls (whole SDK calls)', ms(aws.median), ms(aws.p99), ms(aws.max)],
        ['of which on the wire to moto + parsing', ms(wire.median), ms(wire.p99), ms(wire.max)],
        ['handler overhead (restore − AWS calls)', ms(overhead.median), ms(overhead.p99), ms(overhead.max)],
        ['whole invocation (event → handler returns)', ms(handler.median), ms(handler.p99), ms(handler.max)],
      ],
    ),
    '',
    `Cold first run (excluded above): ${ms(cold.timeToRestoreMs)} to restore, of which ${ms(cold.awsMs)} in AWS`,
    `calls (${cold.sequence}). Calls per whole invocation: median ${perRunCalls.median}, max ${perRunCalls.max}.`,
    '',
    "moto's latency per call, over every call of the warm runs:",
    '',
    ...table(['call', 'per run', 'SDK call median', 'p99', 'wire median', 'p99'], perCall),
    '',
    `Sequence up to the restore in every warm run: ${sequences.join('; ')}. The one read is the alarm's item`,
    '(consistent `GetItem`), which holds the active deployment with its route and stable slot; the rollback',
    'record, execution stop, capacity, verification and notification all come after traffic is back.',
    `Section wall time ${seconds(wallMs)}.`,
  ];
  return {
    figures,
    markdown,
    data: {
      runs: warm.length,
      callsBeforeRestore: [...before],
      sequences,
      timeToRestoreMs: restore,
      awsMs: aws,
      wireMs: wire,
      overheadMs: overhead,
      handlerMs: handler,
      cold: { timeToRestoreMs: cold.timeToRestoreMs, awsMs: cold.awsMs },
      rolledBack,
    },
  };
}
