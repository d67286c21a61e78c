/**
 * `envctl rollback <env> <service> --reason …`: a manual rollback through the environment's rollback state
 * machine, during a deployment or after one while the previous version's task set is kept.
 */
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { Command } from 'commander';
import { ManualRollbackInput, parseInput } from '../../lambdas/domain/input';
import { stateMachineArn } from '../backends/backend';
import { loadConfig, OutcomeError, type CliIo, type GlobalOptions } from '../context';
import { followExecution } from '../follow';
import {
  addTargetOptions,
  asOption,
  executionName,
  requester,
  requireEnvironment,
  requireService,
  withBackend,
  type CommandServices,
  type TargetOptions,
} from '../options';
import { json } from '../output';

interface RollbackOptions extends TargetOptions {
  readonly reason: string;
  readonly as?: string;
}

export function rollbackCommand(io: CliIo, services: CommandServices): Command {
  const command = new Command('rollback')
    .description('Roll a service back to its stable version now: traffic first, then capacity')
    .argument('<env>', 'the environment')
    .argument('<service>', 'the service')
    .requiredOption('--reason <text>', 'why, kept on the rollback record')
    .addOption(asOption());
  return addTargetOptions(command)
    .addHelpText(
      'after',
      '\nExamples:\n  envctl rollback production checkout --reason "checkout errors after 1.4.2"\n  envctl rollback staging checkout --reason "bad config" --json\n\nExit codes: 0 rolled back, or nothing to roll back (said so); 1 a mistake in the arguments; 2 the\nrollback failed (traffic may not be safe: check the listener).',
    )
    .action(async (envName: string, serviceName: string, options: RollbackOptions, cmd: Command) => {
      const config = loadConfig(cmd.optsWithGlobals<GlobalOptions>());
      const env = requireEnvironment(config, envName);
      const service = requireService(env, serviceName);
      const input = parseInput(ManualRollbackInput, {
        environment: env.name,
        service: service.name,
        reason: options.reason,
        requestedBy: requester(options),
      });
      await withBackend(
        services,
        { local: Boolean(options.local), config, environment: env.name },
        async (backend) => {
          const target = await backend.open(env.name);
          const name = executionName([env.name, service.name, 'rollback']);
          const out = await target.deps.sfn.send(
            new StartExecutionCommand({
              stateMachineArn: stateMachineArn(target, 'rollback'),
              name,
              input: JSON.stringify(input),
            }),
          );
          const end = await followExecution(target, out.executionArn!);
          const result = end.output ? (JSON.parse(end.output) as Record<string, unknown>) : null;
          const consoleUrl = target.consoleUrl(out.executionArn!) ?? null;
          if (options.json) {
            io.out(
              json({
                executionArn: out.executionArn,
                consoleUrl,
                status: end.status,
                result,
                error: end.error ?? null,
                cause: end.cause ?? null,
              }),
            );
          } else if (end.status === 'SUCCEEDED' && result) {
            io.out(`${describe(result, service.name, env.name)}\n`);
          }
          if (end.status !== 'SUCCEEDED') {
            throw new OutcomeError(
              `rollback of ${service.name} in ${env.name} ended ${end.status}${end.error ? ` (${end.error})` : ''}${end.cause ? `: ${end.cause.split('\n')[0]}` : ''}`,
            );
          }
        },
      );
    });
}

function describe(result: Record<string, unknown>, service: string, env: string): string {
  switch (result.outcome) {
    case 'rolled-back':
      return `${service} in ${env} rolled back: traffic restored to stable in ${String(result.timeToRestoreTrafficMs)} ms (rollback ${String(result.rollbackId)})`;
    case 'ignored':
    case 'already-handled':
      return `nothing to roll back: ${String(result.reason)}`;
    default:
      return `${service} in ${env}: ${JSON.stringify(result)}`;
  }
}
