/**
 * `envctl promote <service> --image IMAGE`: takes one release through environments in order with the promotion
 * state machine of the last one's stack. Each environment deploys it with its own strategy; production waits for
 * an approval first; the first deployment that does not succeed stops the promotion, and the environments after
 * it are never touched. Exit 0 only when every environment SUCCEEDED.
 */
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { Command } from 'commander';
import { DeploymentStore } from '../../lambdas/adapters/deployment-store';
import { SfnDeploymentLauncher } from '../../lambdas/adapters/deployment-launcher';
import { findService, type EnvironmentConfig, type ProjectConfig } from '../../lambdas/domain/config';
import { parseInput } from '../../lambdas/domain/input';
import { decideApproval } from '../../lambdas/engine/approval';
import { portsFrom } from '../../lambdas/engine/ports';
import { decidePromotion, promotionPortsFrom } from '../../lambdas/engine/promotion';
import {
  isPromotionTerminal,
  PromotionInput,
  type PromotionRecord,
  type StageRecord,
} from '../../lambdas/domain/promotion';
import { stateMachineArn, type Target } from '../backends/backend';
import { loadConfig, OutcomeError, UsageError, type CliIo, type GlobalOptions } from '../context';
import { deploymentView, ProgressWriter } from '../follow';
import {
  addTargetOptions,
  asOption,
  checkLocalApproval,
  localApprovalOption,
  executionName,
  parseList,
  requester,
  requireEnvironment,
  requireService,
  withBackend,
  type CommandServices,
  type TargetOptions,
} from '../options';
import { json, table } from '../output';

interface PromoteOptions extends TargetOptions {
  readonly image: string;
  readonly through?: string[];
  readonly reason?: string;
  readonly as?: string;
  readonly wait: boolean;
  readonly localApproval?: 'approve' | 'reject';
}

export function promoteCommand(io: CliIo, services: CommandServices): Command {
  const command = new Command('promote')
    .description(
      'Take a release through environments in order, each with its own strategy; approval before production',
    )
    .argument('<service>', 'the service, as the config names it')
    .requiredOption('--image <ref>', 'the image to promote, such as registry/repo:tag')
    .option(
      '--through <envs>',
      'the environments in order, comma-separated (default: every environment with the service, in the config order)',
      parseList('--through'),
    )
    .option('--reason <text>', 'why, kept on every record')
    .addOption(asOption())
    .option('--no-wait', 'start it and return at once with the promotion id')
    .addOption(localApprovalOption());
  return addTargetOptions(command)
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  envctl promote checkout --image registry/checkout:1.4.2',
        '  envctl promote checkout --image registry/checkout:1.4.2 --through staging,production --no-wait',
        '',
        "The promotion runs in the stack of its last environment, which starts each environment's deployment:",
        "every environment it goes through must be in that stack's AWS account and region.",
        'Exit codes: 0 promoted everywhere; 1 a mistake in the arguments (nothing started); 2 the promotion',
        'stopped (a deployment did not succeed, or production was not approved).',
      ].join('\n'),
    )
    .action(async (serviceName: string, options: PromoteOptions, cmd: Command) => {
      const config = loadConfig(cmd.optsWithGlobals<GlobalOptions>());
      checkLocalApproval(options);
      const through = environmentsThrough(config, serviceName, options.through);
      const home = through.at(-1)!;
      checkReach(through, home);
      const homeService = requireService(home, serviceName);
      const production = through.find((e) => e.type === 'production');
      const input = parseInput(PromotionInput, {
        service: serviceName,
        image: options.image,
        ...(options.reason !== undefined ? { reason: options.reason } : {}),
        requestedBy: requester(options),
        stages: through.map((e) => ({
          environment: e.name,
          strategy: requireService(e, serviceName).deployment.strategy,
          approval: e.type === 'production',
        })),
        approvalTimeoutSeconds: (production ? requireService(production, serviceName) : homeService)
          .deployment.approvalTimeoutSeconds,
      });

      await withBackend(
        services,
        { local: Boolean(options.local), config, environment: home.name },
        async (backend) => {
          // Every environment's stack is found before anything starts: one that cannot be reached is a mistake.
          const targets = new Map<string, Target>();
          for (const env of through) targets.set(env.name, await backend.open(env.name));
          const target = targets.get(home.name)!;
          const promotionId = executionName([home.name, 'promotion', serviceName]);
          const out = await target.deps.sfn.send(
            new StartExecutionCommand({
              stateMachineArn: stateMachineArn(target, 'promotion'),
              name: promotionId,
              input: JSON.stringify(input),
            }),
          );
          const executionArn = out.executionArn!;
          const consoleUrl = target.consoleUrl(executionArn) ?? null;
          if (!options.wait) {
            io.out(
              options.json
                ? json({ promotionId, executionArn, consoleUrl, status: 'STARTED' })
                : `${promotionId}\n`,
            );
            return;
          }
          io.err(
            `promotion ${promotionId} of ${input.image} through ${through.map((e) => e.name).join(' → ')} started${consoleUrl ? `: ${consoleUrl}` : ''}\n`,
          );
          const record = await followPromotion(io, services, targets, target, promotionId, executionArn, {
            decision: options.localApproval,
            decidedBy: input.requestedBy!,
          });
          const reasons = record ? await stageReasons(record, targets) : new Map<string, string>();
          io.out(
            options.json
              ? json({
                  promotionId,
                  executionArn,
                  consoleUrl,
                  outcome: record?.status ?? 'FAILED',
                  record: record ?? null,
                })
              : summary(promotionId, record, reasons),
          );
          if (record?.status !== 'SUCCEEDED') {
            const at = record?.stages.find((s) => !['SUCCEEDED', 'PENDING', 'SKIPPED'].includes(s.status));
            const why = at ? (reasons.get(at.environment) ?? at.detail ?? at.status) : record?.error;
            throw new OutcomeError(
              `promotion ${promotionId} ended ${record?.status ?? 'without a record'}${at ? ` at ${at.environment}` : ''}${why ? `: ${why}` : ''}`,
            );
          }
        },
      );
    });
}

/** The environments in order: those `--through` names, else every environment with the service. */
function environmentsThrough(
  config: ProjectConfig,
  service: string,
  through: readonly string[] | undefined,
): EnvironmentConfig[] {
  if (!through) {
    const all = config.environments.filter((e) => findService(e, service));
    if (all.length === 0) throw new UsageError(`no environment of the config has a service "${service}"`);
    return all;
  }
  const seen = new Set<string>();
  return through.map((name) => {
    if (seen.has(name)) throw new UsageError(`--through names ${name} twice`);
    seen.add(name);
    const env = requireEnvironment(config, name);
    requireService(env, service);
    return env;
  });
}

/**
 * The promotion's state machine starts each deployment with its own role, and Step Functions has no resource
 * policy through which another account could allow that: every environment must share the home's account and
 * region.
 */
function checkReach(through: readonly EnvironmentConfig[], home: EnvironmentConfig): void {
  const away = through.filter((e) => e.account !== home.account || e.region !== home.region);
  if (away.length > 0) {
    throw new UsageError(
      `a promotion runs in the stack of ${home.name} (account ${home.account}, ${home.region}) and can start deployments only there: ${away.map((e) => `${e.name} is in ${e.account}, ${e.region}`).join('; ')}`,
    );
  }
}

async function followPromotion(
  io: CliIo,
  services: CommandServices,
  targets: ReadonlyMap<string, Target>,
  home: Target,
  promotionId: string,
  executionArn: string,
  local: { readonly decision?: 'approve' | 'reject'; readonly decidedBy: string },
): Promise<PromotionRecord | undefined> {
  const store = new DeploymentStore(home.deps.dynamodb, home.outputs.tableName);
  const launcher = new SfnDeploymentLauncher(home.deps.sfn);
  const progress = new ProgressWriter(io, services.tty ?? Boolean(process.stderr.isTTY));
  let afterEnd = 0;
  for (;;) {
    const record = await store.getPromotion(promotionId);
    if (record) progress.show(await promotionView(record, targets));
    if (record && home.ephemeral) {
      const decided = await decideLocally(record, targets, local);
      if (decided) {
        progress.release();
        io.err(`${decided} (--local-approval)\n`);
      }
    }
    if (record && isPromotionTerminal(record.status)) {
      progress.release();
      return record;
    }
    const execution = await launcher.describe(executionArn);
    if (execution.status !== 'RUNNING' && (!record || ++afterEnd > 30)) {
      progress.release();
      return record;
    }
    await home.pause();
  }
}

/**
 * In a local cloud that lives for this command only, nothing else can decide an approval the promotion or its
 * deployment waits for: the command decides as `--local-approval` says, or ends. Returns what it decided.
 */
async function decideLocally(
  record: PromotionRecord,
  targets: ReadonlyMap<string, Target>,
  local: { readonly decision?: 'approve' | 'reject'; readonly decidedBy: string },
): Promise<string | undefined> {
  const stage = record.stages[record.stageIndex];
  const target = stage ? targets.get(stage.environment) : undefined;
  const deployment =
    stage?.status === 'DEPLOYING' && stage.deploymentId && target
      ? await new DeploymentStore(target.deps.dynamodb, target.outputs.tableName).getDeployment(
          stage.deploymentId,
        )
      : undefined;
  const waiting =
    record.status === 'AWAITING_APPROVAL'
      ? record.promotionId
      : deployment?.status === 'AWAITING_APPROVAL'
        ? deployment.deploymentId
        : undefined;
  if (!waiting) return undefined;
  if (!local.decision) {
    throw new OutcomeError(
      `${waiting} waits for approval, which nothing outside this command can give its local cloud: run it again with --local-approval approve (or reject)`,
    );
  }
  const raw = {
    decision: local.decision,
    decidedBy: local.decidedBy,
    comment: 'decided with --local-approval',
  };
  if (waiting === record.promotionId) {
    await decidePromotion(promotionPortsFrom(targets.get(record.stages.at(-1)!.environment)!.deps), {
      promotionId: waiting,
      ...raw,
    });
  } else {
    await decideApproval(portsFrom(target!.deps), { deploymentId: waiting, ...raw });
  }
  return `${waiting} ${local.decision === 'approve' ? 'approved' : 'rejected'} as ${local.decidedBy}`;
}

/** The stages in one line, and the deploying stage's own progress under it. */
async function promotionView(
  record: PromotionRecord,
  targets: ReadonlyMap<string, Target>,
): Promise<{ line: string; block: string[]; key: string }> {
  const stages = record.stages.map((s) => `${s.environment} ${s.status}`).join(' → ');
  const current = record.stages[record.stageIndex];
  let detail: { line: string; block: string[]; key: string } | undefined;
  if (current?.status === 'DEPLOYING' && current.deploymentId) {
    const target = targets.get(current.environment);
    const deployment = target
      ? await new DeploymentStore(target.deps.dynamodb, target.outputs.tableName)
          .getDeployment(current.deploymentId)
          .catch(() => undefined)
      : undefined;
    if (deployment) detail = deploymentView(deployment);
  }
  const waiting =
    record.status === 'AWAITING_APPROVAL'
      ? `awaiting approval for ${record.approval?.environment}: envctl approve ${record.promotionId} (or reject)`
      : undefined;
  const head = `${record.status}  ${stages}${waiting ? `  ${waiting}` : ''}`;
  const key = `${head}${detail ? `  | ${current!.environment}: ${detail.key}` : ''}`;
  // The time of the newest event: the deploying stage's, else the promotion's.
  const at = detail ? detail.line.slice(0, 8) : (record.timeline.at(-1)?.at ?? '').slice(11, 19);
  return {
    key,
    line: `${at}  ${key}`,
    block: [head, ...(detail ? detail.block.map((l) => `  ${l}`) : [])],
  };
}

/**
 * Why each stage that did not succeed ended so, from its deployment's own record (the promotion's function cannot
 * read another environment's table; the CLI can): `deployment <id> ended ROLLED_BACK (trigger …): …`.
 */
async function stageReasons(
  record: PromotionRecord,
  targets: ReadonlyMap<string, Target>,
): Promise<Map<string, string>> {
  const reasons = new Map<string, string>();
  for (const stage of record.stages) {
    const target = targets.get(stage.environment);
    if (!stage.deploymentId || stage.status === 'SUCCEEDED' || !target) continue;
    const deployment = await new DeploymentStore(target.deps.dynamodb, target.outputs.tableName)
      .getDeployment(stage.deploymentId)
      .catch(() => undefined);
    if (deployment?.error) {
      reasons.set(
        stage.environment,
        `deployment ${stage.deploymentId} ended ${deployment.status}${deployment.trigger ? ` (trigger ${deployment.trigger})` : ''}: ${deployment.error}`,
      );
    }
  }
  return reasons;
}

function summary(
  promotionId: string,
  record: PromotionRecord | undefined,
  reasons: ReadonlyMap<string, string>,
): string {
  if (!record)
    return `Promotion  ${promotionId}\nOutcome    no record: the promotion's first step did not run\n`;
  const rows = record.stages.map((s: StageRecord) => [
    s.environment,
    s.strategy,
    s.status,
    s.deploymentId ?? '-',
    reasons.get(s.environment)?.replace(/^deployment \S+ ended \S+ (\(trigger (\S+)\))?:? ?/, '$2: ') ??
      s.detail ??
      '',
  ]);
  return `${table([
    ['Promotion', promotionId],
    ['Outcome', record.status],
    ['Release', `${record.image} of ${record.service}`],
    // Why it stopped: the deployment's own record says it best, else the promotion's.
    ...(reasons.size > 0
      ? [...reasons].map(([env, reason]) => [`Stopped in ${env}`, reason])
      : record.error
        ? [['Stopped', record.error]]
        : []),
  ])}\n\n${table([['ENVIRONMENT', 'STRATEGY', 'STATUS', 'DEPLOYMENT', 'DETAIL'], ...rows], '  ')}\n`;
}
