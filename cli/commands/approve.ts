/**
 * `envctl approve <id>` / `envctl reject <id>`: decides an approval a deployment (before production traffic
 * moves) or a promotion (before production) waits for, and records who decided. The same decision code as the
 * stack's DecideApproval function runs here, with the user's credentials.
 */
import { Command } from 'commander';
import { DeploymentStore } from '../../lambdas/adapters/deployment-store';
import type { ProjectConfig } from '../../lambdas/domain/config';
import { decideApproval } from '../../lambdas/engine/approval';
import { portsFrom } from '../../lambdas/engine/ports';
import { decidePromotion, promotionPortsFrom } from '../../lambdas/engine/promotion';
import { loadConfig, UsageError, type CliIo, type GlobalOptions } from '../context';
import {
  addTargetOptions,
  asOption,
  requester,
  requireEnvironment,
  withBackend,
  type CommandServices,
  type TargetOptions,
} from '../options';
import { json } from '../output';

interface DecideOptions extends TargetOptions {
  readonly env?: string;
  readonly comment?: string;
  readonly as?: string;
}

export const approveCommand = (io: CliIo, services: CommandServices) =>
  decideCommand(io, services, 'approve');
export const rejectCommand = (io: CliIo, services: CommandServices) => decideCommand(io, services, 'reject');

function decideCommand(io: CliIo, services: CommandServices, decision: 'approve' | 'reject'): Command {
  const command = new Command(decision)
    .description(
      decision === 'approve'
        ? 'Approve a deployment or promotion that waits for approval, as yourself'
        : 'Reject a deployment (it rolls back) or promotion (it stops) that waits for approval',
    )
    .argument('<id>', 'the deployment id (or promotion id) the notification and envctl status show')
    .option('--env <name>', 'the environment whose stack holds it (default: the one its id starts with)')
    .option('--comment <text>', 'kept on the record with the decision')
    .addOption(asOption());
  return addTargetOptions(command)
    .addHelpText(
      'after',
      decision === 'approve'
        ? '\nExamples:\n  envctl approve production-checkout-20250314t101500z-a1b2\n  envctl approve production-promotion-checkout-20250314t090000z-c3d4 --comment "staging looks good"'
        : '\nExamples:\n  envctl reject production-checkout-20250314t101500z-a1b2 --comment "error budget spent"\n  envctl reject some-console-execution --env production --json',
    )
    .action(async (id: string, options: DecideOptions, cmd: Command) => {
      const config = loadConfig(cmd.optsWithGlobals<GlobalOptions>());
      const env = options.env ? requireEnvironment(config, options.env) : environmentOfId(config, id);
      const decidedBy = requester(options);
      const raw = {
        decision,
        decidedBy,
        ...(options.comment !== undefined ? { comment: options.comment } : {}),
      };
      await withBackend(
        services,
        { local: Boolean(options.local), config, environment: env.name },
        async (backend) => {
          const target = await backend.open(env.name);
          const store = new DeploymentStore(target.deps.dynamodb, target.outputs.tableName);
          let result: { kind: 'deployment' | 'promotion'; id: string; decision: string; environment: string };
          if (await store.getDeployment(id)) {
            const r = await decideApproval(portsFrom(target.deps), { deploymentId: id, ...raw });
            result = { kind: 'deployment', id, decision: r.decision, environment: env.name };
          } else if (await store.getPromotion(id)) {
            const r = await decidePromotion(promotionPortsFrom(target.deps), { promotionId: id, ...raw });
            result = { kind: 'promotion', id, decision: r.decision, environment: r.environment };
          } else {
            throw new UsageError(
              `no deployment or promotion ${id} in ${env.name}${target.kind === 'local' ? ' (the local cloud of this command is new: local state lasts one command)' : ''}`,
            );
          }
          io.out(
            options.json
              ? json({ ...result, decidedBy })
              : `${result.kind} ${id} ${result.decision} by ${decidedBy}${result.kind === 'promotion' ? ` for ${result.environment}` : ''}${result.decision === 'rejected' ? (result.kind === 'deployment' ? ': it rolls back' : ': it stops') : ''}\n`,
          );
        },
      );
    });
}

/** The environment a CLI-made id starts with (`<env>-…`); the longest name wins. */
function environmentOfId(config: ProjectConfig, id: string) {
  const env = [...config.environments]
    .sort((a, b) => b.name.length - a.name.length)
    .find((e) => id.startsWith(`${e.name}-`));
  if (!env) throw new UsageError(`cannot tell the environment of ${id} from its id: give --env`);
  return env;
}
