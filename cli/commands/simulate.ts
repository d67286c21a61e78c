/**
 * `envctl simulate`: rehearse a release end to end with no AWS account. The project's own state machines and
 * Lambda code run against moto in the local cloud, with live traffic from a scenario, CloudWatch alarms evaluated
 * over it and automatic rollback; waits and bakes take simulated time.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { STRATEGIES, type Strategy } from '../../lambdas/domain/config';
import type { StrategyOptionsInput } from '../../lambdas/domain/input';
import { renderReport } from '../../localcloud/report';
import {
  BUILT_IN_SCENARIO_NAMES,
  builtInScenario,
  loadScenarioFile,
  ScenarioError,
  type Scenario,
} from '../../localcloud/scenarios';
import { simulate, SimulationError, type Progress, type SimulationResult } from '../../localcloud/simulation';
import { loadConfig, UsageError, type CliIo, type GlobalOptions } from '../context';
import { json, table } from '../output';

interface SimulateOptions {
  readonly env: string;
  readonly service?: string;
  readonly strategy?: Strategy;
  readonly steps?: number[];
  readonly stepPercent?: number;
  readonly bake?: number;
  readonly scenario?: string;
  readonly scenarioFile?: string;
  readonly seed: number;
  readonly image?: string;
  readonly input?: string;
  readonly json?: boolean;
  readonly report?: string;
  readonly progress: boolean;
}

export interface SimulateCommandOptions {
  /** Whether progress may redraw in place. @default standard error is a terminal */
  readonly tty?: boolean;
}

export function simulateCommand(io: CliIo, commandOptions: SimulateCommandOptions = {}): Command {
  return new Command('simulate')
    .description(
      'Rehearse a release in the local cloud (moto, simulated time): live traffic, alarms, automatic rollback',
    )
    .option('--env <name>', 'the environment', 'staging')
    .option('--service <name>', "the service (default: the environment's first)")
    .addOption(
      new Option('--strategy <strategy>', "the deployment strategy (default: the service's)").choices(
        STRATEGIES,
      ),
    )
    .option('--steps <percents>', 'canary: traffic percents, comma-separated (e.g. 10,50,100)', parseSteps)
    .option('--step-percent <n>', 'rolling: percent of traffic moved per step', parseWhole('--step-percent'))
    .option('--bake <seconds>', 'bake time under the health gate after each step', parseWhole('--bake'))
    .option(
      '--scenario <name>',
      `a built-in scenario: ${BUILT_IN_SCENARIO_NAMES.join(', ')} (default: healthy)`,
    )
    .option('--scenario-file <file>', 'a scenario of your own, as JSON')
    .option(
      '--seed <n>',
      'seed of the simulated traffic: the same seed gives the same run',
      parseWhole('--seed'),
      1,
    )
    .option('--image <ref>', 'the candidate image (default: the stable image retagged after the scenario)')
    .option(
      '--input <file>',
      'start the execution with this raw JSON input, exactly as the Step Functions console would',
    )
    .option('--json', 'print one JSON object with the result instead of the summary')
    .option('--report <file>', 'also write a self-contained HTML report (charts and timeline) to this file')
    .option('--no-progress', 'do not show progress while it runs')
    .addHelpText(
      'after',
      '\nExamples:\n  envctl simulate --scenario bad-release\n  envctl simulate --strategy rolling --scenario late-failure --report rehearsal.html\n  envctl simulate --input release.json --json',
    )
    .action(async (options: SimulateOptions, command: Command) => {
      const config = loadConfig(command.optsWithGlobals<GlobalOptions>());
      if (options.scenario && options.scenarioFile)
        throw new UsageError('give --scenario or --scenario-file, not both');
      const scenario = loadScenario(options);
      const input = options.input === undefined ? undefined : readInput(options.input);
      const strategyOptions: StrategyOptionsInput = {
        ...(options.steps ? { steps: options.steps } : {}),
        ...(options.stepPercent !== undefined ? { stepPercent: options.stepPercent } : {}),
        ...(options.bake !== undefined ? { bakeSeconds: options.bake } : {}),
      };
      if (input !== undefined && Object.keys(strategyOptions).length > 0) {
        throw new UsageError(
          '--steps, --step-percent and --bake do not apply with --input: put strategyOptions in the input',
        );
      }
      const progress = options.progress
        ? progressWriter(io, commandOptions.tty ?? Boolean(process.stderr.isTTY))
        : undefined;
      let result: SimulationResult;
      try {
        result = await simulate({
          config,
          environment: options.env,
          ...(options.service ? { service: options.service } : {}),
          ...(options.strategy ? { strategy: options.strategy } : {}),
          strategyOptions,
          scenario,
          seed: options.seed,
          ...(options.image ? { image: options.image } : {}),
          ...(input !== undefined ? { input } : {}),
          ...(progress ? { onProgress: progress.update } : {}),
        });
      } catch (err) {
        if (err instanceof SimulationError || err instanceof ScenarioError) throw new UsageError(err.message);
        throw err;
      } finally {
        progress?.done();
      }
      if (options.report) {
        writeFileSync(options.report, renderReport(result));
        io.err(`report written to ${options.report}\n`);
      }
      io.out(options.json ? json(result) : summary(result));
      if (result.outcome === 'REJECTED' || result.outcome === 'FAILED') {
        throw new UsageError(`the deployment ended ${result.outcome}: ${result.error ?? 'see the timeline'}`);
      }
    });
}

function loadScenario(options: SimulateOptions): Scenario {
  try {
    return options.scenarioFile
      ? loadScenarioFile(options.scenarioFile)
      : builtInScenario(options.scenario ?? 'healthy');
  } catch (err) {
    if (err instanceof ScenarioError) throw new UsageError(err.message);
    throw err;
  }
}

function readInput(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read input file ${file}: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UsageError(`input file ${file} is not JSON: ${(err as Error).message}`);
  }
}

function parseWhole(flag: string) {
  return (value: string): number => {
    if (!/^\d+$/.test(value.trim())) throw new UsageError(`${flag} must be a whole number, not "${value}"`);
    return Number(value);
  };
}

function parseSteps(value: string): number[] {
  const steps = value.split(',').map((s) => s.trim());
  if (steps.some((s) => !/^\d+$/.test(s)))
    throw new UsageError(`--steps must be whole percents separated by commas, not "${value}"`);
  return steps.map(Number);
}

// ---- output ------------------------------------------------------------------------------------------------

const hhmmss = (iso: string) => iso.slice(11, 19);

function duration(seconds: number): string {
  const sign = seconds < 0 ? '-' : '+';
  const s = Math.abs(seconds);
  return `${sign}${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

/** One line of progress, for logs and pipes. */
export function progressLine(p: Progress): string {
  const parts = [
    `${hhmmss(p.at)} ${(p.phase === 'warm-up' ? '' : duration(p.elapsedSeconds)).padEnd(8)}`,
    p.phase === 'deploying' ? (p.status ?? 'STARTING') : p.phase,
  ];
  const step = stepText(p);
  if (step) parts.push(step);
  parts.push(`traffic stable ${p.weights.stable}% candidate ${p.weights.candidate}%`);
  const firing = p.alarms.filter((a) => a.state === 'ALARM').map((a) => a.name);
  parts.push(firing.length ? `ALARM ${firing.join(', ')}` : 'alarms OK');
  if (p.phase === 'deploying' && p.verdict) parts.push(`verdict ${p.verdict.status}: ${p.verdict.reason}`);
  return parts.join('  ');
}

/** Where the deployment is: waiting for its candidate, or in a step. */
function stepText(p: Progress): string | undefined {
  if (!p.step) return undefined;
  const { index, count, weight } = p.step;
  if (p.lastEvent?.event === 'candidate-started' || p.lastEvent?.event === 'locked') {
    return `waiting for the candidate to be ready (then step ${index}/${count}, ${weight}%)`;
  }
  if (p.lastEvent?.event === 'approval-requested')
    return `awaiting approval before step ${index}/${count} (${weight}%)`;
  return `step ${index}/${count} (${weight}%)`;
}

/** Progress on standard error: redrawn in place on a terminal, else one line whenever something changes. */
function progressWriter(io: CliIo, tty: boolean): { update: (p: Progress) => void; done: () => void } {
  let drawn = 0;
  let lastKey = '';
  let lastDraw = 0;
  let pending: Progress | undefined;
  const draw = (p: Progress) => {
    const bar = (pct: number) => '█'.repeat(Math.round(pct / 5)).padEnd(20, '·');
    const alarms = p.alarms.map((a) => `${a.name.replace(/^[^-]+-[^-]+-/, '')} ${a.state}`).join('  ');
    const lines = [
      `${hhmmss(p.at)} ${p.phase === 'warm-up' ? '' : duration(p.elapsedSeconds)}  ${p.phase === 'deploying' ? (p.status ?? 'STARTING') : p.phase}${stepText(p) ? `  ${stepText(p)}` : ''}`,
      `  stable    ${bar(p.weights.stable)} ${String(p.weights.stable).padStart(3)}%`,
      `  candidate ${bar(p.weights.candidate)} ${String(p.weights.candidate).padStart(3)}%`,
      `  alarms    ${alarms}`,
      `  verdict   ${p.verdict ? `${p.verdict.status}: ${p.verdict.reason}` : '-'}`,
      `  last      ${p.lastEvent ? `${hhmmss(p.lastEvent.at)} ${p.lastEvent.event}: ${p.lastEvent.message}` : '-'}`,
    ].map((l) => (l.length > 150 ? `${l.slice(0, 149)}…` : l));
    io.err(`${drawn ? `\x1b[${drawn}A\x1b[J` : ''}${lines.join('\n')}\n`);
    drawn = lines.length;
    lastDraw = performance.now();
    pending = undefined;
  };
  return {
    update: (p) => {
      if (tty) {
        pending = p;
        if (performance.now() - lastDraw > 80) draw(p);
        return;
      }
      const key = progressLine({ ...p, at: '', elapsedSeconds: 0 });
      if (key !== lastKey) io.err(`${progressLine(p)}\n`);
      lastKey = key;
    },
    done: () => {
      if (tty && pending) draw(pending);
    },
  };
}

/** The text summary printed at the end. */
export function summary(r: SimulationResult): string {
  const facts: string[][] = [
    ['Outcome', `${r.outcome}${r.trigger ? ` (trigger: ${r.trigger})` : ''}`],
    ...(r.error ? [['Error', r.error]] : []),
    [
      'Deployment',
      `${r.strategy} of ${r.service} in ${r.environment}: ${r.image ?? '?'} over ${r.stableImage ?? '?'}`,
    ],
    ['Scenario', `${r.scenario.name} (seed ${r.seed})`],
    ['Steps', r.steps.length ? r.steps.map((s) => `${s}%`).join(' → ') : 'none taken'],
    [
      'Traffic now',
      `stable ${r.finalWeights.stable}%, candidate ${r.finalWeights.candidate}% (read from moto)`,
    ],
    [
      'Restore time',
      r.timeToRestoreTrafficMs === null
        ? 'no rollback'
        : `${r.timeToRestoreTrafficMs} ms of simulated time from the trigger to traffic on stable`,
    ],
    [
      'Task sets',
      r.taskSets.map((t) => `${t.id} ${t.status} ${t.slot ?? '?'} ${t.role} ${t.scale}%`).join('; ') ||
        'none',
    ],
    [
      'Simulated',
      `${duration(r.simulatedSeconds).slice(1)} of simulated time in ${(r.wallMs / 1000).toFixed(1)} s`,
    ],
  ];
  const timeline = r.timeline.map((e) => [
    hhmmss(e.at),
    e.event,
    `${e.weights.stable}/${e.weights.candidate}`,
    e.message.length > 110 ? `${e.message.slice(0, 109)}…` : e.message,
  ]);
  return `${table(facts)}\n\nTimeline (simulated time; traffic stable/candidate %)\n${table([['TIME', 'EVENT', 'TRAFFIC', 'DETAIL'], ...timeline], '  ')}\n`;
}
