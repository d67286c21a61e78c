/**
 * `envctl status <env> [service]`: for each service, the traffic split as the listener holds it, the version
 * serving, the active deployment and its step, and the last health verdict.
 */
import { Command } from 'commander';
import { DeploymentStore } from '../../lambdas/adapters/deployment-store';
import { ElbTrafficRouter } from '../../lambdas/adapters/traffic-router';
import type { ServiceConfig } from '../../lambdas/domain/config';
import type { DeploymentRecord, Slot } from '../../lambdas/domain/records';
import type { Target } from '../backends/backend';
import { loadConfig, type CliIo, type GlobalOptions } from '../context';
import {
  addTargetOptions,
  requireEnvironment,
  requireService,
  withBackend,
  type CommandServices,
  type TargetOptions,
} from '../options';
import { json, table } from '../output';

export interface ServiceStatus {
  readonly environment: string;
  readonly service: string;
  /** Listener weights by slot, read from the load balancer; null when they could not be read. */
  readonly weights: { readonly blue: number; readonly green: number } | null;
  readonly weightsError?: string;
  /** The slot and image serving as stable. */
  readonly stable: { readonly slot: Slot; readonly image: string } | null;
  /** The deployment holding the lock, if any. */
  readonly active: {
    readonly deploymentId: string;
    readonly status: string;
    readonly strategy: string;
    readonly image: string;
    readonly step: { readonly index: number; readonly count: number; readonly weight: number } | null;
    readonly weights: { readonly stable: number; readonly candidate: number } | null;
    readonly awaitingApproval: boolean;
  } | null;
  readonly lastVerdict: { readonly status: string; readonly reason: string; readonly at: string } | null;
  /** The newest deployment, active or not. */
  readonly last: {
    readonly deploymentId: string;
    readonly status: string;
    readonly image: string;
    readonly startedAt: string;
    readonly endedAt: string | null;
  } | null;
}

export function statusCommand(io: CliIo, services: CommandServices): Command {
  const command = new Command('status')
    .description(
      'Show traffic, the serving version, the active deployment and its step, and the last verdict',
    )
    .argument('<env>', 'the environment')
    .argument('[service]', 'one service (default: every service of the environment)');
  return addTargetOptions(command)
    .addHelpText('after', '\nExamples:\n  envctl status staging\n  envctl status production checkout --json')
    .action(
      async (envName: string, serviceName: string | undefined, options: TargetOptions, cmd: Command) => {
        const config = loadConfig(cmd.optsWithGlobals<GlobalOptions>());
        const env = requireEnvironment(config, envName);
        const names = serviceName ? [requireService(env, serviceName).name] : env.services.map((s) => s.name);
        await withBackend(
          services,
          { local: Boolean(options.local), config, environment: env.name },
          async (backend) => {
            const target = await backend.open(env.name);
            const statuses: ServiceStatus[] = [];
            for (const name of names) {
              statuses.push(await serviceStatus(target, requireService(target.environment, name)));
            }
            io.out(options.json ? json(statuses) : render(statuses));
          },
        );
      },
    );
}

export async function serviceStatus(target: Target, service: ServiceConfig): Promise<ServiceStatus> {
  const store = new DeploymentStore(target.deps.dynamodb, target.outputs.tableName);
  const env = target.environment.name;
  const [state, page, weights] = await Promise.all([
    store.getServiceState(env, service.name),
    store.listDeployments(env, service.name, { limit: 1 }),
    new ElbTrafficRouter(target.deps.elb)
      .getWeights({
        listenerArn: service.listener.arn,
        ...(service.listener.ruleArn ? { ruleArn: service.listener.ruleArn } : {}),
        targetGroups: service.targetGroups,
      })
      .then(
        (w) => ({ weights: w }),
        (err: Error) => ({ error: `${err.name}: ${err.message}` }),
      ),
  ]);
  const active: DeploymentRecord | undefined = state?.lock
    ? await store.getDeployment(state.lock.deploymentId)
    : undefined;
  const newest = page.items[0];
  const step =
    active?.plan && active.stepIndex !== undefined && active.plan[active.stepIndex]
      ? {
          index: active.stepIndex + 1,
          count: active.plan.length,
          weight: active.plan[active.stepIndex]!.weight,
        }
      : null;
  const verdictOf = active ?? newest;
  return {
    environment: env,
    service: service.name,
    weights: 'weights' in weights ? weights.weights : null,
    ...('error' in weights ? { weightsError: weights.error } : {}),
    stable: state?.stable ? { slot: state.stable.slot, image: state.stable.image } : null,
    active: active
      ? {
          deploymentId: active.deploymentId,
          status: active.status,
          strategy: active.strategy,
          image: active.image,
          step,
          weights: active.weights ?? null,
          awaitingApproval: active.status === 'AWAITING_APPROVAL',
        }
      : null,
    lastVerdict: verdictOf?.lastVerdict ?? null,
    last: newest
      ? {
          deploymentId: newest.deploymentId,
          status: newest.status,
          image: newest.image,
          startedAt: newest.startedAt,
          endedAt: newest.endedAt ?? null,
        }
      : null,
  };
}

function render(statuses: readonly ServiceStatus[]): string {
  return statuses
    .map((s) => {
      const traffic = s.weights
        ? (['blue', 'green'] as const)
            .map((slot) => `${slot} ${s.weights![slot]}%${s.stable?.slot === slot ? ' (stable)' : ''}`)
            .join(', ')
        : `unknown (${s.weightsError})`;
      const rows: string[][] = [
        ['traffic', traffic],
        [
          'stable',
          s.stable ? `${s.stable.image} on ${s.stable.slot}` : 'unknown (no deployment recorded yet)',
        ],
        [
          'active',
          s.active
            ? `${s.active.deploymentId} ${s.active.status}, ${s.active.strategy} of ${s.active.image}${s.active.step ? `, step ${s.active.step.index}/${s.active.step.count} (${s.active.step.weight}%)` : ''}${s.active.awaitingApproval ? `: envctl approve ${s.active.deploymentId}` : ''}`
            : 'none',
        ],
        ['verdict', s.lastVerdict ? `${s.lastVerdict.status}: ${s.lastVerdict.reason}` : '-'],
        [
          'last',
          s.last
            ? `${s.last.deploymentId} ${s.last.status} (${s.last.image}, started ${s.last.startedAt})`
            : 'none',
        ],
      ];
      return `${s.service} in ${s.environment}\n${table(rows, '  ')}\n`;
    })
    .join('\n');
}
