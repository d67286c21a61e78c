/** Developer loop: `cdk synth` of the whole app with bundling, and the test suite (`npm test`). */
import { existsSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { loadAverage, ROOT } from './support/machine';
import { childEnv, run as runProcess } from './support/processes';
import { seconds, table } from './support/stats';
import type { Benchmark, BenchContext, SectionOutput } from './support/types';

const TEST_BUDGET_MS = 15 * 60_000;

export const benchmark: Benchmark = {
  id: 'developer-loop',
  title: 'Developer loop',
  budgetMs: TEST_BUDGET_MS + 5 * 60_000,
  run,
};

interface TestRun {
  /** When it was measured, if not in this run. */
  readonly measuredAt?: string;
  readonly wallMs: number;
  /** 1-minute load average when it started and ended. */
  readonly load?: { readonly before: number; readonly after: number };
  readonly exitCode: number | null;
  readonly timedOut: boolean;
  readonly summary: string;
}

async function run(ctx: BenchContext): Promise<SectionOutput> {
  const synth = await ctx.synth();
  // Skipped: the last measurement stands, with its date.
  const earlier = (ctx.previous?.data as { tests?: TestRun } | undefined)?.tests;
  let tests: TestRun | undefined =
    ctx.options.skipTests && earlier
      ? {
          ...earlier,
          measuredAt: earlier.measuredAt ?? ctx.previous!.measuredAt,
          summary: earlier.summary.replace(/\s+/g, ' '),
        }
      : undefined;
  if (!ctx.options.skipTests) {
    ctx.log('npm test (type check, lint, jest unit + localcloud)');
    const before = loadAverage();
    const result = await runProcess('npm', ['test'], {
      cwd: ROOT,
      env: childEnv({ FORCE_COLOR: '0', CI: '1' }),
      timeoutMs: TEST_BUDGET_MS,
      signal: ctx.signal,
    });
    const output = `${result.stdout}\n${result.stderr}`;
    tests = {
      wallMs: result.wallMs,
      load: { before, after: loadAverage() },
      exitCode: result.exitCode,
      timedOut: result.timedOut,
      // jest's closing lines: "Test Suites: …", "Tests: …"
      summary: output
        .split('\n')
        .filter((l) => /^(Test Suites|Tests):/.test(l.trim()))
        .map((l) => l.trim().replace(/\s+/g, ' '))
        .join('; '),
    };
  }
  const entries = existsSync(synth.outdir) ? readdirSync(synth.outdir) : [];
  const stacks = entries.filter((f) => f.endsWith('.template.json')).length;
  const bundles = entries.filter((f) => existsSync(path.join(synth.outdir, f, 'index.js'))).length;
  const figures = [
    {
      label: `cdk synth -q (${stacks} stacks, ${bundles} bundles, cdk-nag)`,
      value: `${seconds(synth.wallMs)}${synth.exitCode === 0 ? '' : ` (exit ${synth.exitCode})`}`,
    },
    tests
      ? {
          label: tests.measuredAt
            ? `npm test (measured ${tests.measuredAt.slice(0, 16).replace('T', ' ')} UTC${tests.load ? `, load ${tests.load.before}` : ''})`
            : 'npm test',
          value: `${seconds(tests.wallMs)} (${tests.timedOut ? 'timed out' : tests.exitCode === 0 ? 'passed' : `exit ${tests.exitCode}`}${tests.summary ? `; ${tests.summary}` : ''})`,
        }
      : { label: 'npm test', value: 'not run (--skip-tests)' },
  ];
  const markdown = [
    '**How.** `cdk synth -q -o <temp dir>` as a fresh process (the CDK CLI on Node 24, the app through `tsx`),',
    'with bundling of every function by the local esbuild and the cdk-nag checks; the same synthesis feeds the',
    'cold-start section. `npm test` as CI runs it: type check, lint, then jest with the `unit` and',
    '`localcloud` projects (the latter starts moto once per suite).',
    '',
    ...table(
      ['', 'wall', 'result'],
      [
        ['cdk synth -q', seconds(synth.wallMs), synth.exitCode === 0 ? 'ok' : `exit ${synth.exitCode}`],
        tests
          ? [
              tests.measuredAt
                ? `npm test (measured ${tests.measuredAt.slice(0, 16).replace('T', ' ')} UTC)`
                : 'npm test',
              seconds(tests.wallMs),
              tests.timedOut
                ? 'timed out'
                : `${tests.exitCode === 0 ? 'passed' : `exit ${tests.exitCode}`}; ${tests.summary}`,
            ]
          : ['npm test', '', 'not run (--skip-tests)'],
      ],
    ),
  ];
  return { figures, markdown, data: { synth: { wallMs: synth.wallMs, exitCode: synth.exitCode }, tests } };
}
