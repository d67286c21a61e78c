/** Options and argument checks the operator commands share. */
import { randomBytes } from 'node:crypto';
import { Command, Option } from 'commander';
import {
  findEnvironment,
  findService,
  type EnvironmentConfig,
  type ProjectConfig,
  type ServiceConfig,
} from '../lambdas/domain/config';
import { AwsBackend } from './backends/aws';
import type { Backend, BackendFactory } from './backends/backend';
import { startLocalBackend } from './backends/local';
import { currentUser, UsageError } from './context';

/** What the operator commands are given besides where they write. */
export interface CommandServices {
  /** Opens the backend: AWS, or a fresh local cloud with `--local`. */
  readonly backend: BackendFactory;
  /** Whether progress may redraw in place. @default standard error is a terminal */
  readonly tty?: boolean;
}

export const defaultServices: CommandServices = {
  backend: async ({ local, config, environment }): Promise<Backend> =>
    local ? startLocalBackend(config, environment) : new AwsBackend(config),
};

/** The options every operator command takes: `--local` and `--json`. */
export interface TargetOptions {
  readonly local?: boolean;
  readonly json?: boolean;
}

export function addTargetOptions(command: Command): Command {
  return command
    .option(
      '--local',
      'act on a fresh local cloud (moto, simulated time) instead of AWS; its state lasts this command',
    )
    .option('--json', 'print JSON for scripts instead of text');
}

/** `--local-approval`: how a command decides, in its own local cloud, an approval nothing else can reach. */
export const localApprovalOption = () =>
  new Option(
    '--local-approval <decision>',
    'with --local: decide an approval it waits for yourself, as nothing outside this command reaches its local cloud',
  ).choices(['approve', 'reject']);

/** Checks that `--local-approval` comes with `--local`. */
export function checkLocalApproval(options: { local?: boolean; localApproval?: string }): void {
  if (options.localApproval && !options.local)
    throw new UsageError('--local-approval applies only with --local');
}

export const asOption = () =>
  new Option(
    '--as <name>',
    'who you are, as the records name you (default: ENVCTL_USER, else your login name)',
  );

/** Runs `work` with the backend, and always closes it (a local cloud stops). */
export async function withBackend<T>(
  services: CommandServices,
  request: { local: boolean; config: ProjectConfig; environment: string },
  work: (backend: Backend) => Promise<T>,
): Promise<T> {
  const backend = await services.backend(request);
  try {
    return await work(backend);
  } finally {
    await backend.close();
  }
}

export function requireEnvironment(config: ProjectConfig, name: string): EnvironmentConfig {
  const env = findEnvironment(config, name);
  if (!env) {
    throw new UsageError(
      `no environment "${name}" in the config (environments: ${config.environments.map((e) => e.name).join(', ')})`,
    );
  }
  return env;
}

export function requireService(env: EnvironmentConfig, name: string): ServiceConfig {
  const service = findService(env, name);
  if (!service) {
    throw new UsageError(
      `no service "${name}" in ${env.name} (services: ${env.services.map((s) => s.name).join(', ')})`,
    );
  }
  return service;
}

export function requester(options: { as?: string }): string {
  return options.as ?? currentUser();
}

export function parseWhole(flag: string) {
  return (value: string): number => {
    if (!/^\d+$/.test(value.trim())) throw new UsageError(`${flag} must be a whole number, not "${value}"`);
    return Number(value);
  };
}

export function parsePositive(flag: string) {
  return (value: string): number => {
    const n = parseWhole(flag)(value);
    if (n < 1) throw new UsageError(`${flag} must be at least 1, not "${value}"`);
    return n;
  };
}

export function parseSteps(value: string): number[] {
  const steps = value.split(',').map((s) => s.trim());
  if (steps.some((s) => !/^\d+$/.test(s)))
    throw new UsageError(`--steps must be whole percents separated by commas, not "${value}"`);
  return steps.map(Number);
}

export function parseList(flag: string) {
  return (value: string): string[] => {
    const items = value.split(',').map((s) => s.trim());
    if (items.some((s) => s === ''))
      throw new UsageError(`${flag} must be names separated by commas, not "${value}"`);
    return items;
  };
}

/**
 * A name for an execution the CLI starts, which is also the record's id: `<environment>-<service>-<what>-<utc
 * time>-<random>`, at most 80 characters of [A-Za-z0-9-_], as Step Functions allows.
 */
export function executionName(parts: readonly string[], now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+/, '').toLowerCase();
  const suffix = `${stamp}-${randomBytes(2).toString('hex')}`;
  const head = parts.join('-').replace(/[^A-Za-z0-9_-]/g, '-');
  return `${head.slice(0, 80 - suffix.length - 1)}-${suffix}`;
}
