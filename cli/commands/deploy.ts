/**
 * `envctl deploy <env> <service> --image IMAGE`: checks the input with the execution input schema before anything
 * starts, starts the strategy's state machine, then follows the deployment until it ends. Exit 0 only when it
 * SUCCEEDED.
 */
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { Command, Option } from 'commander';
import { STRATEGIES, type Strategy } from '../../lambdas/domain/config';
import { checkOptionsFitStrategy, ExecutionInput, parseInput } from '../../lambdas/domain/input';
import type { DeploymentRecord } from '../../lambdas/domain/records';
import { decideApproval } from '../../lambdas/engine/approval';
import { portsFrom } from '../../lambdas/engine/ports';
import { stateMachineArn, type Target } from '../backends/backend';
import { loadConfig, OutcomeError, type CliIo, type GlobalOptions } from '../context';
import { deploymentView, followDeployment, ProgressWriter, type DeploymentEnd } from '../follow';
import {
  addTargetOptions,
  asOption,
  checkLocalApproval,
  localApprovalOption,
  executionName,
  parseSteps,
  parseWhole,
  requester,
  requireEnvironment,
  requireService,
  withBackend,
  type CommandServices,
  type TargetOptions,
} from '../options';
import { json, table } from '../output';

interface DeployOptions extends TargetOptions {
  readonly image: string;
  readonly strategy?: Strategy;
  readonly steps?: number[];
  readonly stepPercent?: number;
  readonly bake?: number;
  readonly reason?: string;
  readonly as?: string;
  readonly wait: boolean;
  readonly localApproval?: 'approve' | 'reject';
}

export function deployCommand(io: CliIo, services: CommandServices): Command {
  const command = new Command('deploy')
    .description(
      'Deploy an image to a service, following the deployment until it ends (exit 0 only on SUCCEEDED)',
    )
    .argument('<env>', 'the environment, as the config names it')
    .argument('<service>', 'the service, as the config names it')
    .requiredOption('--image <ref>', 'the image to deploy, such as registry/repo:tag')
    .addOption(
      new Option('--strategy <strategy>', "the deployment strategy (default: the service's)").choices(
        STRATEGIES,
      ),
    )
    .option('--steps <percents>', 'canary: traffic percents, comma-separated (e.g. 10,50,100)', parseSteps)
    .option('--step-percent <n>', 'rolling: percent of traffic moved per step', parseWhole('--step-percent'))
    .option('--bake <seconds>', 'bake time under the health gate after each step', parseWhole('--bake'))
    .option('--reason <text>', 'why, kept on the record')
    .addOption(asOption())
    .option('--no-wait', 'start it and return at once with the deployment id')
    .addOption(localApprovalOption());
  return addTargetOptions(command)
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  envctl deploy staging checkout --image 123456789012.dkr.ecr.eu-west-1.amazonaws.com/checkout:1.4.2',
        '  envctl deploy staging checkout --image registry/checkout:1.4.2 --strategy canary --steps 10,50,100 --bake 300',
        '  envctl deploy production checkout --image registry/checkout:1.4.2 --no-wait --json',
        '  envctl deploy staging checkout --image public.ecr.aws/nginx/nginx:1.28 --local',
        '',
        'Exit codes: 0 SUCCEEDED; 1 a mistake in the arguments (nothing started); 2 the deployment ended',
        'ROLLED_BACK, FAILED, REJECTED or ABORTED.',
      ].join('\n'),
    )
    .action(async (envName: string, serviceName: string, options: DeployOptions, cmd: Command) => {
      const config = loadConfig(cmd.optsWithGlobals<GlobalOptions>());
      const env = requireEnvironment(config, envName);
      const service = requireService(env, serviceName);
      checkLocalApproval(options);
      const strategy = options.strategy ?? service.deployment.strategy;
      const strategyOptions = {
        ...(options.steps ? { steps: options.steps } : {}),
        ...(options.stepPercent !== undefined ? { stepPercent: options.stepPercent } : {}),
        ...(options.bake !== undefined ? { bakeSeconds: options.bake } : {}),
      };
      // The same checks as the first step of the state machine, before anything is started.
      const input = parseInput(ExecutionInput, {
        environment: env.name,
        service: service.name,
        image: options.image,
        ...(options.reason !== undefined ? { reason: options.reason } : {}),
        requestedBy: requester(options),
        ...(Object.keys(strategyOptions).length > 0 ? { strategyOptions } : {}),
      });
      checkOptionsFitStrategy(strategy, input.strategyOptions);

      await withBackend(
        services,
        { local: Boolean(options.local), config, environment: env.name },
        async (backend) => {
          const target = await backend.open(env.name);
          const deploymentId = executionName([env.name, service.name]);
          const out = await target.deps.sfn.send(
            new StartExecutionCommand({
              stateMachineArn: stateMachineArn(target, strategy),
              name: deploymentId,
              input: JSON.stringify(input),
            }),
          );
          const executionArn = out.executionArn!;
          const consoleUrl = target.consoleUrl(executionArn) ?? null;
          if (!options.wait) {
            io.out(
              options.json
                ? json({ deploymentId, executionArn, consoleUrl, status: 'STARTED' })
                : `${deploymentId}\n`,
            );
            if (!options.json)
              io.err(
                target.ephemeral
                  ? `started ${strategy} deployment of ${input.image}; the local cloud stops with this command, which ends it\n`
                  : `started ${strategy} deployment of ${input.image}; follow it with envctl status ${env.name} ${service.name}\n`,
              );
            return;
          }
          io.err(
            `${strategy} deployment ${deploymentId} of ${input.image} started${consoleUrl ? `: ${consoleUrl}` : ''}\n`,
          );
          const progress = new ProgressWriter(io, services.tty ?? Boolean(process.stderr.isTTY));
          let decided = false;
          const end = await followDeployment(target, deploymentId, executionArn, async (record) => {
            progress.show(deploymentView(record));
            if (record.status !== 'AWAITING_APPROVAL' || !target.ephemeral || decided) return;
            // Nothing outside this command reaches its local cloud: the command decides, or ends.
            if (!options.localApproval) {
              throw new OutcomeError(
                `deployment ${deploymentId} waits for approval, which nothing outside this command can give its local cloud: run it again with --local-approval approve (or reject)`,
              );
            }
            decided = true;
            await decideApproval(portsFrom(target.deps), {
              deploymentId,
              decision: options.localApproval,
              decidedBy: input.requestedBy!,
              comment: 'decided with --local-approval',
            });
            progress.release();
            io.err(
              `approval ${options.localApproval === 'approve' ? 'approved' : 'rejected'} as ${input.requestedBy} (--local-approval)\n`,
            );
          });
          progress.release();
          io.out(options.json ? json(result(end, consoleUrl)) : summary(end, target, consoleUrl));
          if (end.outcome !== 'SUCCEEDED') {
            throw new OutcomeError(`deployment ${deploymentId} ended ${end.outcome}${endReason(end)}`);
          }
        },
      );
    });
}

/** Why a deployment ended as it did, for the one error line: its trigger and error. */
export function endReason(end: DeploymentEnd): string {
  const record = end.record;
  const trigger = record?.trigger ? ` (trigger ${record.trigger})` : '';
  const error = record?.error ?? end.execution.cause ?? end.execution.error;
  return `${trigger}${error ? `: ${error.split('\n')[0]}` : ''}`;
}

function result(end: DeploymentEnd, consoleUrl: string | null) {
  return {
    deploymentId: end.deploymentId,
    executionArn: end.executionArn,
    consoleUrl,
    outcome: end.outcome,
    trigger: end.record?.trigger ?? null,
    error: end.record?.error ?? null,
    execution: end.execution,
    record: end.record ?? null,
  };
}

function summary(end: DeploymentEnd, target: Target, consoleUrl: string | null): string {
  const r: DeploymentRecord | undefined = end.record;
  const facts: string[][] = [
    ['Deployment', end.deploymentId],
    ['Outcome', `${end.outcome}${r?.trigger ? ` (trigger: ${r.trigger})` : ''}`],
    ...(r?.error ? [['Error', r.error]] : []),
    [
      'Release',
      r
        ? `${r.strategy} of ${r.service} in ${r.environment}: ${r.image}${r.stable?.image ? ` over ${r.stable.image}` : ''}`
        : '-',
    ],
    ...(r?.weights ? [['Traffic', `stable ${r.weights.stable}%, candidate ${r.weights.candidate}%`]] : []),
    ['Execution', consoleUrl ?? `${end.executionArn}${target.kind === 'local' ? ' (local cloud)' : ''}`],
  ];
  const timeline = (r?.timeline ?? []).map((e) => [
    e.at.slice(11, 19),
    e.event,
    e.weights ? `${e.weights.stable}/${e.weights.candidate}` : '',
    e.message.length > 110 ? `${e.message.slice(0, 109)}…` : e.message,
  ]);
  return `${table(facts)}\n${timeline.length ? `\nTimeline (traffic stable/candidate %)\n${table([['TIME', 'EVENT', 'TRAFFIC', 'DETAIL'], ...timeline], '  ')}\n` : ''}`;
}
