/**
 * `npm run bench`: runs the benchmarks one after another, prints a table of the figures, keeps them in
 * bench/results.json and writes BENCHMARKS.md from every section measured so far.
 *
 *   npm run bench                              all sections (the test suite takes about five minutes)
 *   npm run bench -- --skip-tests              all but the test suite's time
 *   npm run bench -- --only cold-start,cost    some sections; the others keep their last figures
 *   npm run bench -- --runs 50 --init-runs 20  runs of the time-to-safety and cold-start measurements
 *
 * Every section has a time budget; past it, it is aborted and its clouds and processes stopped.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { format, resolveConfig } from 'prettier';
import { benchmark as alarmStorm } from './alarm-storm';
import { benchmark as coldStart } from './cold-start';
import { benchmark as cost } from './cost';
import { benchmark as developerLoop } from './developer-loop';
import { renderBenchmarks } from './report';
import { benchmark as simulationSpeed } from './simulation-speed';
import { loadAverage, machineInfo, ROOT, type MachineInfo } from './support/machine';
import { childEnv, run as runProcess } from './support/processes';
import { seconds } from './support/stats';
import { benchmark as timeToSafety } from './time-to-safety';
import {
  SECTION_IDS,
  type Benchmark,
  type BenchOptions,
  type SectionId,
  type SectionResult,
  type SynthOutput,
} from './support/types';

const BENCHMARKS: readonly Benchmark[] = [
  timeToSafety,
  coldStart,
  cost,
  alarmStorm,
  simulationSpeed,
  developerLoop,
];

export const RESULTS_FILE = path.join(__dirname, 'results.json');
export const BENCHMARKS_FILE = path.join(ROOT, 'BENCHMARKS.md');

export interface StoredResults {
  machine: MachineInfo;
  sections: Partial<Record<SectionId, SectionResult>>;
  /** Figures kept from before an optimisation, by section (`--save-baseline`). */
  baselines: Partial<Record<SectionId, SectionResult>>;
  /** The last few runs of every section, oldest first. */
  fullRuns: FullRun[];
}

export interface FullRun {
  readonly at: string;
  readonly wallMs: number;
  readonly skipTests: boolean;
  /** 1-minute load average when it started and ended. */
  readonly load: { readonly before: number; readonly after: number };
}

/** Full runs kept in bench/results.json. */
const FULL_RUNS_KEPT = 5;

interface Args {
  only: SectionId[];
  options: BenchOptions;
  saveBaseline: boolean;
  write: boolean;
}

const USAGE = `usage: npm run bench -- [--only ${SECTION_IDS.join(',')}] [--skip-tests] [--runs N] [--init-runs N]
                          [--save-baseline] [--no-write]`;

function parseArgs(argv: readonly string[]): Args {
  const args: Args = {
    only: [...SECTION_IDS],
    options: { runs: 50, initRuns: 20, skipTests: false },
    saveBaseline: false,
    write: true,
  };
  const count = (flag: string, value: string | undefined, min: number) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new Error(`${flag} needs a whole number of at least ${min}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.includes('=') ? arg.split(/=(.*)/, 2) : [arg, undefined];
    const value = () => inline ?? argv[++i];
    switch (flag) {
      case '--only': {
        const ids = (value() ?? '').split(',').filter(Boolean);
        const unknown = ids.filter((id) => !(SECTION_IDS as readonly string[]).includes(id));
        if (ids.length === 0 || unknown.length > 0)
          throw new Error(`--only: unknown section ${unknown.join(', ') || '(none)'}`);
        args.only = ids as SectionId[];
        break;
      }
      case '--skip-tests':
        args.options = { ...args.options, skipTests: true };
        break;
      case '--runs':
        args.options = { ...args.options, runs: count('--runs', value(), 1) };
        break;
      case '--init-runs':
        args.options = { ...args.options, initRuns: count('--init-runs', value(), 1) };
        break;
      case '--save-baseline':
        args.saveBaseline = true;
        break;
      case '--no-write':
        args.write = false;
        break;
      case '--help':
      case '-h':
        console.log(USAGE);
        process.exit(0);
      default:
        throw new Error(`unknown option ${arg}\n${USAGE}`);
    }
  }
  return args;
}

function loadResults(machine: MachineInfo): StoredResults {
  try {
    const stored = JSON.parse(readFileSync(RESULTS_FILE, 'utf8')) as StoredResults;
    return {
      machine,
      sections: stored.sections ?? {},
      baselines: stored.baselines ?? {},
      fullRuns: stored.fullRuns ?? [],
    };
  } catch {
    return { machine, sections: {}, baselines: {}, fullRuns: [] };
  }
}

/** `cdk synth -q` of the real app, with bundling, into a temporary directory; once per run of this script. */
function synthOnce(log: (m: string) => void): { synth: () => Promise<SynthOutput>; cleanup: () => void } {
  let pending: Promise<SynthOutput> | undefined;
  let outdir: string | undefined;
  return {
    synth: () =>
      (pending ??= (async () => {
        outdir = mkdtempSync(path.join(tmpdir(), 'bench-synth-'));
        log(`cdk synth -q -o ${outdir}`);
        const result = await runProcess(
          process.execPath,
          [path.join(ROOT, 'node_modules', 'aws-cdk', 'bin', 'cdk'), 'synth', '-q', '-o', outdir],
          { cwd: ROOT, env: childEnv(), timeoutMs: 300_000 },
        );
        return {
          outdir,
          wallMs: result.wallMs,
          exitCode: result.timedOut ? null : result.exitCode,
          stderrTail: result.stderr.slice(-2000),
        };
      })()),
    cleanup: () => {
      if (outdir) rmSync(outdir, { recursive: true, force: true });
    },
  };
}

async function runSection(
  bench: Benchmark,
  options: BenchOptions,
  synth: () => Promise<SynthOutput>,
  previous: SectionResult | undefined,
): Promise<SectionResult> {
  const log = (m: string) => process.stderr.write(`[${bench.id}] ${m}\n`);
  const controller = new AbortController();
  const started = performance.now();
  const before = loadAverage();
  log(`start (load ${before})`);
  const timer = setTimeout(() => {
    log(`out of time after ${seconds(bench.budgetMs)}: aborting`);
    controller.abort();
  }, bench.budgetMs);
  const base = { id: bench.id, title: bench.title, measuredAt: new Date().toISOString() };
  try {
    const output = await bench.run({
      options,
      signal: controller.signal,
      log,
      synth,
      ...(previous ? { previous } : {}),
    });
    const wallMs = performance.now() - started;
    log(`done in ${seconds(wallMs)}`);
    return { ...base, ...output, wallMs, load: { before, after: loadAverage() } };
  } catch (err) {
    const wallMs = performance.now() - started;
    const error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    log(`failed after ${seconds(wallMs)}: ${error}`);
    return {
      ...base,
      figures: [{ label: 'section failed', value: error.slice(0, 200) }],
      markdown: [`The section failed: \`${error.replace(/`/g, "'")}\``],
      wallMs,
      load: { before, after: loadAverage() },
      error,
    };
  } finally {
    clearTimeout(timer);
  }
}

function printTable(results: readonly SectionResult[]): void {
  const rows: string[][] = [['section', 'figure', 'value', 'goal', 'met']];
  for (const r of results) {
    for (const f of r.figures) {
      rows.push([r.id, f.label, f.value, f.goal ?? '', f.met === undefined ? '' : f.met ? 'yes' : 'NO']);
    }
    rows.push([
      r.id,
      'wall time · load before/after',
      `${seconds(r.wallMs)} · ${r.load.before}/${r.load.after}`,
      '',
      '',
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.min(70, Math.max(...rows.map((r) => r[i]!.length))));
  const line = (r: string[]) => r.map((c, i) => c.slice(0, 70).padEnd(widths[i]!)).join('  ');
  console.log(line(rows[0]!));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows.slice(1)) console.log(line(r));
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const machine = machineInfo();
  process.stderr.write(
    `${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGiB} GiB, Node ${machine.node}, moto ${machine.moto}, load ${loadAverage()}\n`,
  );
  const stored = loadResults(machine);
  const { synth, cleanup } = synthOnce((m) => process.stderr.write(`[synth] ${m}\n`));
  const results: SectionResult[] = [];
  const started = performance.now();
  const loadBefore = loadAverage();
  try {
    for (const bench of BENCHMARKS.filter((b) => args.only.includes(b.id))) {
      const result = await runSection(bench, args.options, synth, stored.sections[bench.id]);
      results.push(result);
      if (args.saveBaseline) stored.baselines[bench.id] = result;
      else stored.sections[bench.id] = result;
    }
  } finally {
    cleanup();
  }
  const wallMs = performance.now() - started;
  if (args.only.length === SECTION_IDS.length && !args.saveBaseline)
    stored.fullRuns = [
      ...stored.fullRuns,
      {
        at: new Date().toISOString(),
        wallMs,
        skipTests: args.options.skipTests,
        load: { before: loadBefore, after: loadAverage() },
      },
    ].slice(-FULL_RUNS_KEPT);
  console.log('');
  printTable(results);
  console.log(`\nwhole run ${seconds(wallMs)}`);
  if (args.write) {
    // Formatted as the repository formats everything (its prettier config).
    const options = (await resolveConfig(BENCHMARKS_FILE)) ?? {};
    writeFileSync(RESULTS_FILE, await format(JSON.stringify(stored), { ...options, parser: 'json' }));
    writeFileSync(
      BENCHMARKS_FILE,
      await format(renderBenchmarks(stored), { ...options, parser: 'markdown' }),
    );
    console.log(
      `wrote ${path.relative(process.cwd(), RESULTS_FILE)} and ${path.relative(process.cwd(), BENCHMARKS_FILE)}`,
    );
  }
  return results.some((r) => r.error) ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
