/**
 * Simulation speed: how long, in wall-clock time, a rehearsal takes whose bakes total 30 simulated minutes, and
 * twenty services deploying at once in one local cloud.
 */
import { loadConfigFile } from '../lib/config/load';
import { builtInScenario } from '../localcloud/scenarios';
import { runSimulation, simulationCloudOptions } from '../localcloud/simulation';
import { DeploymentStore } from '../lambdas/adapters/deployment-store';
import {
  ENVIRONMENT,
  healthyTraffic,
  manyServices,
  readsFixed,
  release,
  SERVICE,
  within,
  withCloud,
} from './support/cloud';
import { ms, seconds, summarize, table } from './support/stats';
import type { Benchmark, BenchContext, SectionOutput } from './support/types';

const BAKE_SECONDS = 600;
const STEPS = [10, 50, 100];
const CONCURRENT = 20;

export const benchmark: Benchmark = {
  id: 'simulation-speed',
  title: 'Simulation speed',
  budgetMs: 180_000,
  run,
};

async function run(ctx: BenchContext): Promise<SectionOutput> {
  const single = await longCanary(ctx);
  if (ctx.signal.aborted) throw new Error('aborted');
  const many = await concurrentDeployments(ctx);
  return report(single, many);
}

interface LongCanary {
  readonly startMs: number;
  readonly rehearsalMs: number;
  readonly executionMs: number;
  readonly outcome: string;
  readonly bakeSeconds: number;
  readonly executionSeconds: number;
  readonly simulatedSeconds: number;
}

/** `envctl simulate`'s path: a cloud with the workload and alarm evaluation, one canary with 3 × 600 s bakes. */
async function longCanary(ctx: BenchContext): Promise<LongCanary> {
  const scenario = builtInScenario('healthy');
  const t0 = performance.now();
  return withCloud(
    simulationCloudOptions({ environment: ENVIRONMENT, service: SERVICE, scenario, logLevel: 'SILENT' }),
    async (cloud) => {
      const startMs = performance.now() - t0;
      const result = await runSimulation(cloud, {
        scenario,
        strategy: 'canary',
        strategyOptions: { steps: STEPS, bakeSeconds: BAKE_SECONDS },
      });
      const execution = await cloud.runner.result(result.execution.arn);
      const plan = result.records.deployment?.plan ?? [];
      const bakeSeconds = plan.reduce((n, step) => n + step.bakeSeconds, 0);
      ctx.log(`canary with ${bakeSeconds} s of bakes: ${result.outcome} in ${seconds(result.wallMs)}`);
      return {
        startMs,
        rehearsalMs: result.wallMs,
        executionMs: execution?.wallMs ?? Number.NaN,
        outcome: result.outcome,
        bakeSeconds,
        executionSeconds:
          (Date.parse(result.execution.stoppedAt) - Date.parse(result.execution.startedAt)) / 1000,
        simulatedSeconds: result.simulatedSeconds,
      };
    },
  );
}

interface Concurrent {
  readonly startMs: number;
  readonly timings: Record<string, unknown>;
  readonly wallMs: number;
  readonly outcomes: Record<string, number>;
  readonly simulatedSeconds: number;
  readonly perRunWallMs: readonly number[];
}

/** Twenty services with their checkout-like defaults (canary 10/50/100, 300 s bakes), started together. */
async function concurrentDeployments(ctx: BenchContext): Promise<Concurrent> {
  const config = manyServices(loadConfigFile(), CONCURRENT, {
    errorRate: true,
    latency: true,
    unhealthyHosts: true,
  });
  const t0 = performance.now();
  return withCloud({ environment: ENVIRONMENT, config, logLevel: 'SILENT', ...readsFixed }, async (cloud) => {
    const startMs = performance.now() - t0;
    const services = cloud.config.environments.find((e) => e.name === ENVIRONMENT)!.services;
    const stopTraffic = await healthyTraffic(
      cloud,
      services.map((s) => s.name),
    );
    try {
      const simStart = cloud.clock.now().getTime();
      const t1 = performance.now();
      const handles = await Promise.all(
        services.map((s, i) =>
          cloud.runner.start({
            stateMachine: 'canary',
            input: release(s.name, `public.ecr.aws/nginx/nginx:fleet-${i}`),
          }),
        ),
      );
      const results = await within(
        Promise.all(handles.map((h) => h.result)),
        150_000,
        `${CONCURRENT} deployments to end`,
      );
      const wallMs = performance.now() - t1;
      const outcomes: Record<string, number> = {};
      const store = new DeploymentStore(cloud.clients.dynamodb, cloud.deps.tableName);
      for (const r of results) {
        const status = (await store.getDeployment(r.name))?.status ?? r.status;
        outcomes[status] = (outcomes[status] ?? 0) + 1;
      }
      ctx.log(`${CONCURRENT} deployments at once: ${JSON.stringify(outcomes)} in ${seconds(wallMs)}`);
      return {
        startMs,
        timings: { ...cloud.timings },
        wallMs,
        outcomes,
        simulatedSeconds: (cloud.clock.now().getTime() - simStart) / 1000,
        perRunWallMs: results.map((r) => r.wallMs),
      };
    } finally {
      stopTraffic();
    }
  });
}

function report(single: LongCanary, many: Concurrent): SectionOutput {
  const perRun = summarize([...many.perRunWallMs]);
  const succeeded = many.outcomes.SUCCEEDED ?? 0;
  const figures = [
    {
      label: `canary with ${single.bakeSeconds / 60} simulated minutes of bakes`,
      value: `${seconds(single.executionMs)} wall for ${(single.executionSeconds / 60).toFixed(1)} simulated min (${single.outcome}); whole rehearsal ${seconds(single.rehearsalMs)}`,
    },
    {
      label: `${CONCURRENT} services deploying at once`,
      value: `${seconds(many.wallMs)} wall for ${(many.simulatedSeconds / 60).toFixed(1)} simulated min; ${succeeded}/${CONCURRENT} SUCCEEDED`,
    },
  ];
  const markdown = [
    `**How.** (1) \`envctl simulate\`'s path: \`simulationCloudOptions\` + \`runSimulation\` (workload model, alarm`,
    `evaluation every 15 simulated seconds) with a canary of \`checkout\`, steps ${STEPS.join(', ')} and ${BAKE_SECONDS} s bakes;`,
    'the rehearsal also simulates 5 minutes of traffic before and 3 after the deployment. (2) A config with',
    `${CONCURRENT} services shaped like \`checkout\` (canary 10, 50, 100; 300 s bakes), healthy traffic on each, and`,
    `${CONCURRENT} canaries started together in one cloud; the wall time runs from the starts to the last end.`,
    '',
    ...table(
      ['', 'wall', 'simulated', 'notes'],
      [
        [
          `canary, ${single.bakeSeconds} s of bakes: execution`,
          seconds(single.executionMs),
          `${single.executionSeconds} s`,
          `${(single.executionSeconds / (single.executionMs / 1000)).toFixed(0)}× real time; ${single.outcome}`,
        ],
        [
          '… whole rehearsal (warm-up, deployment, cool-down)',
          seconds(single.rehearsalMs),
          `${single.simulatedSeconds} s`,
          `cloud start ${seconds(single.startMs)}`,
        ],
        [
          `${CONCURRENT} canaries at once`,
          seconds(many.wallMs),
          `${many.simulatedSeconds} s`,
          `${JSON.stringify(many.outcomes)}; each run ${ms(perRun.median)} median, ${ms(perRun.max)} max`,
        ],
        [`… cloud start with ${CONCURRENT} services`, seconds(many.startMs), '', ''],
      ],
    ),
  ];
  return { figures, markdown, data: { single, many } };
}
