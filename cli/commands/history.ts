/** `envctl history <env> [service]`: deployments, or rollbacks with `--rollbacks`, newest first, as a table. */
import { Command } from 'commander';
import { DeploymentStore } from '../../lambdas/adapters/deployment-store';
import type { DeploymentRecord, RollbackRecord } from '../../lambdas/domain/records';
import { loadConfig, UsageError, type CliIo, type GlobalOptions } from '../context';
import {
  addTargetOptions,
  parsePositive,
  requireEnvironment,
  requireService,
  withBackend,
  type CommandServices,
  type TargetOptions,
} from '../options';
import { json, table } from '../output';

interface HistoryOptions extends TargetOptions {
  readonly rollbacks?: boolean;
  readonly limit: number;
}

export function historyCommand(io: CliIo, services: CommandServices): Command {
  const command = new Command('history')
    .description('List deployments (or rollbacks), newest first')
    .argument('<env>', 'the environment')
    .argument('[service]', 'one service (default: every service of the environment)')
    .option('--rollbacks', 'list rollbacks instead of deployments')
    .option('--limit <n>', 'how many, at most 100', parsePositive('--limit'), 20);
  return addTargetOptions(command)
    .addHelpText(
      'after',
      '\nExamples:\n  envctl history staging checkout\n  envctl history production --rollbacks --limit 5 --json',
    )
    .action(
      async (envName: string, serviceName: string | undefined, options: HistoryOptions, cmd: Command) => {
        const config = loadConfig(cmd.optsWithGlobals<GlobalOptions>());
        const env = requireEnvironment(config, envName);
        if (serviceName) requireService(env, serviceName);
        if (options.limit > 100) throw new UsageError(`--limit must be at most 100, not ${options.limit}`);
        await withBackend(
          services,
          { local: Boolean(options.local), config, environment: env.name },
          async (backend) => {
            const target = await backend.open(env.name);
            const store = new DeploymentStore(target.deps.dynamodb, target.outputs.tableName);
            if (options.rollbacks) {
              const page = await store.listRollbacks(env.name, serviceName, { limit: options.limit });
              io.out(options.json ? json(page.items) : renderRollbacks(page.items));
            } else {
              const page = await store.listDeployments(env.name, serviceName, { limit: options.limit });
              io.out(options.json ? json(page.items) : renderDeployments(page.items));
            }
          },
        );
      },
    );
}

const when = (iso: string | undefined) => (iso ? iso.replace('T', ' ').slice(0, 19) : '-');

function duration(from: string, to: string | undefined): string {
  if (!to) return '-';
  const s = Math.max(0, Math.round((Date.parse(to) - Date.parse(from)) / 1000));
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

export function renderDeployments(items: readonly DeploymentRecord[]): string {
  if (items.length === 0) return 'no deployments\n';
  return `${table([
    ['STARTED', 'ID', 'SERVICE', 'STRATEGY', 'STATUS', 'TOOK', 'IMAGE', 'TRIGGER'],
    ...items.map((d) => [
      when(d.startedAt),
      d.deploymentId,
      d.service,
      d.strategy,
      d.status,
      duration(d.startedAt, d.endedAt),
      d.image,
      d.trigger ?? '',
    ]),
  ])}\n`;
}

export function renderRollbacks(items: readonly RollbackRecord[]): string {
  if (items.length === 0) return 'no rollbacks\n';
  return `${table([
    ['STARTED', 'ID', 'SERVICE', 'TRIGGER', 'OUTCOME', 'RESTORED IN', 'REASON'],
    ...items.map((r) => [
      when(r.startedAt),
      r.rollbackId,
      r.service,
      r.trigger,
      r.outcome,
      r.timeToRestoreTrafficMs !== undefined ? `${r.timeToRestoreTrafficMs} ms` : '-',
      r.reason.length > 80 ? `${r.reason.slice(0, 79)}…` : r.reason,
    ]),
  ])}\n`;
}
