/**
 * envctl run in-process as a user runs it (`run(args)` is what bin/envctl.js calls), with a backend bound to a
 * cloud the test started, so that several commands see the same local state.
 */
import type { Backend, BackendRequest } from '../../../cli/backends/backend';
import { run } from '../../../cli/main';

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface Cli {
  (args: readonly string[]): Promise<CliRun>;
  /** What the commands asked of the backend factory, in order. */
  readonly requests: BackendRequest[];
}

export function cliWith(backend: Backend): Cli {
  const requests: BackendRequest[] = [];
  const cli = async (args: readonly string[]): Promise<CliRun> => {
    let stdout = '';
    let stderr = '';
    const code = await run(
      args,
      { out: (t) => void (stdout += t), err: (t) => void (stderr += t) },
      {
        tty: false,
        // The test's cloud outlives each command: closing is the test's business.
        backend: async (request) => {
          requests.push(request);
          return { open: (env) => backend.open(env), close: async () => undefined };
        },
      },
    );
    return { code, stdout, stderr };
  };
  return Object.assign(cli, { requests });
}

export const lines = (text: string) => text.split('\n').filter((l) => l !== '');
