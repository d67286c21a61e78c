/** What every command of the CLI shares: where output goes, and the errors that mean "the user got it wrong". */
import { ConfigError, type ProjectConfig } from '../lambdas/domain/config';
import { ValidationError } from '../lambdas/domain/errors';
import { loadConfigFile } from '../lib/config/load';

/** Where a command writes. Injected, so that a command can be run and checked without a terminal. */
export interface CliIo {
  /** Writes to standard output; a newline is not added. */
  readonly out: (text: string) => void;
  /** Writes to standard error; a newline is not added. */
  readonly err: (text: string) => void;
}

export const processIo: CliIo = {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
};

/** The options every command accepts, declared once on the program. */
export interface GlobalOptions {
  /** The config file. @default ENVCTL_CONFIG, else config/environments.json */
  readonly config?: string;
}

/** A mistake of the user's (bad argument, unknown name): shown as one line, without a stack trace. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Whether an error is the user's to fix, shown as its message alone, rather than a fault of the CLI. */
export function isUserError(err: unknown): err is Error {
  return err instanceof UsageError || err instanceof ConfigError || err instanceof ValidationError;
}

/** Loads and validates the config file the global options name. */
export function loadConfig(options: GlobalOptions): ProjectConfig {
  return loadConfigFile(options.config);
}
