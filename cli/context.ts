/** What every command of the CLI shares: where output goes, and the errors that mean "the user got it wrong". */
import * as os from 'node:os';
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

/**
 * A deployment, rollback or promotion that ended otherwise than it should (ROLLED_BACK, FAILED, REJECTED, …):
 * shown as one line, exit code 2, so that a script tells it from a mistake in its own arguments (1).
 */
export class OutcomeError extends Error {
  override readonly name = 'OutcomeError';
  readonly exitCode = 2;
}

/** Whether an error is the user's to fix, shown as its message alone, rather than a fault of the CLI. */
export function isUserError(err: unknown): err is Error {
  return err instanceof UsageError || err instanceof ConfigError || err instanceof ValidationError;
}

/** Loads and validates the config file the global options name. */
export function loadConfig(options: GlobalOptions): ProjectConfig {
  return loadConfigFile(options.config);
}

/**
 * An error from AWS itself (refused, not found, throttled) or from finding credentials: a problem of the account
 * or the setup, shown as one line, not a fault of the CLI.
 */
export function isAwsError(err: unknown): err is Error {
  if (!(err instanceof Error)) return false;
  return (
    (err as { $metadata?: unknown }).$metadata !== undefined ||
    err.name === 'CredentialsProviderError' ||
    err.name === 'TokenProviderError'
  );
}

/** Who runs the command, as records name them: ENVCTL_USER, else the login name. */
export function currentUser(): string {
  if (process.env.ENVCTL_USER) return process.env.ENVCTL_USER;
  try {
    return os.userInfo().username || 'unknown';
  } catch {
    return 'unknown';
  }
}
