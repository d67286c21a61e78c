/** What every benchmark module exports, and what a run of one produces. */

export const SECTION_IDS = [
  'time-to-safety',
  'cold-start',
  'cost',
  'alarm-storm',
  'simulation-speed',
  'developer-loop',
] as const;
export type SectionId = (typeof SECTION_IDS)[number];

/** One line of the summary table. */
export interface Figure {
  readonly label: string;
  readonly value: string;
  /** The goal, as stated in the issue; absent for figures without one. */
  readonly goal?: string;
  readonly met?: boolean;
}

/** What a benchmark returns: figures for the table, and the markdown of its section in BENCHMARKS.md. */
export interface SectionOutput {
  readonly figures: readonly Figure[];
  /** Markdown under the section's heading (method, detail tables, notes); the figures table is added for it. */
  readonly markdown: readonly string[];
  /** Raw measurements, kept in bench/results.json. */
  readonly data?: unknown;
}

/** A section as stored in bench/results.json and rendered into BENCHMARKS.md. */
export interface SectionResult extends SectionOutput {
  readonly id: SectionId;
  readonly title: string;
  readonly measuredAt: string;
  readonly wallMs: number;
  /** 1-minute load average when the section started and when it ended. */
  readonly load: { readonly before: number; readonly after: number };
  /** Set when the section failed or ran out of time; figures may then be partial. */
  readonly error?: string;
}

export interface BenchOptions {
  /** Runs of the time-to-safety benchmark. */
  readonly runs: number;
  /** Fresh processes per bundle in the cold-start benchmark. */
  readonly initRuns: number;
  readonly skipTests: boolean;
}

export interface BenchContext {
  readonly options: BenchOptions;
  /** Aborted when the section runs out of time: stop starting work, clean up, throw. */
  readonly signal: AbortSignal;
  /** A progress line on standard error. */
  log(message: string): void;
  /** `cdk synth` of the real app with bundling into a temporary directory, once per `npm run bench`. */
  synth(): Promise<SynthOutput>;
  /** This section's last stored result, if any. */
  readonly previous?: SectionResult;
}

export interface SynthOutput {
  readonly outdir: string;
  readonly wallMs: number;
  readonly exitCode: number | null;
  readonly stderrTail: string;
}

export interface Benchmark {
  readonly id: SectionId;
  readonly title: string;
  /** Wall-clock budget of the section; past it, the section is aborted. */
  readonly budgetMs: number;
  run(ctx: BenchContext): Promise<SectionOutput>;
}
