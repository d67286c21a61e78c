/**
 * Child processes the benchmarks start (`cdk synth`, `npm test`, fresh Node processes): each in its own process
 * group with a deadline, and the whole group killed by its id when the deadline passes or the run is aborted.
 */
import { spawn } from 'node:child_process';
import * as path from 'node:path';

export interface ProcessResult {
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly wallMs: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
}

/** The environment children get: this Node (24) first on PATH, so that `npx`, `tsx` and `cdk` run on it. */
export function childEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ''}`,
  };
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

/** Runs a command to its end (or its deadline), capturing the tail of its output. */
export function run(
  command: string,
  args: readonly string[],
  options: {
    readonly cwd: string;
    readonly env?: NodeJS.ProcessEnv;
    readonly timeoutMs: number;
    readonly signal?: AbortSignal;
    /** Characters of each stream kept. @default 200000 */
    readonly keep?: number;
  },
): Promise<ProcessResult> {
  const keep = options.keep ?? 200_000;
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command, [...args], {
      cwd: options.cwd,
      env: options.env ?? childEnv(),
      detached: true, // its own process group, killed as one
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (d: Buffer) => (stdout = (stdout + d.toString()).slice(-keep)));
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-keep)));
    const killGroup = (evenAfterExit = false) => {
      if (child.pid !== undefined && (evenAfterExit || child.exitCode === null)) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, options.timeoutMs);
    const onAbort = () => {
      timedOut = true;
      killGroup();
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    child.once('error', (err) => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      reject(err);
    });
    child.once('close', (exitCode, signal) => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      // Whatever the command left behind in its group goes too.
      killGroup(true);
      resolve({
        exitCode,
        signal,
        wallMs: performance.now() - started,
        stdout,
        stderr,
        timedOut,
      });
    });
  });
}
