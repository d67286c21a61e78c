/**
 * The first steps of every deployment: validate the input and the environment's readiness, then take the lock.
 * Anything wrong ends the deployment REJECTED with nothing changed but the record.
 */
import type { Strategy } from '../domain/config';
import { LockHeldError, ValidationError } from '../domain/errors';
import { checkOptionsFitStrategy, ExecutionInput, parseInput } from '../domain/input';
import { buildPlan } from '../domain/plan';
import type { ActiveDeployment, DeploymentRecord, Slot } from '../domain/records';
import { otherSlot } from '../domain/records';
import type { ServiceRegistration } from '../domain/registration';
import type { ServiceInfo } from '../adapters/capacity';
import type { Route } from '../adapters/traffic-router';
import type { DeploymentContext } from './context';
import type { Ports } from './ports';

export interface ValidateRequest {
  readonly strategy: Strategy;
  readonly input: unknown;
  readonly execution: { readonly arn: string; readonly name: string; readonly startTime?: string };
}

export const routeOf = (reg: ServiceRegistration): Route => ({
  listenerArn: reg.service.listener.arn,
  ...(reg.service.listener.ruleArn ? { ruleArn: reg.service.listener.ruleArn } : {}),
  targetGroups: reg.service.targetGroups,
});

export const serviceRef = (reg: ServiceRegistration) => ({
  cluster: reg.service.cluster,
  service: reg.service.ecsService,
});

export async function validate(ports: Ports, req: ValidateRequest): Promise<DeploymentContext> {
  const now = ports.clock.now().toISOString();
  const deploymentId = req.execution.name;
  const raw = (req.input ?? {}) as Record<string, unknown>;
  const base = {
    deploymentId,
    environment: typeof raw.environment === 'string' && raw.environment ? raw.environment : 'unknown',
    service: typeof raw.service === 'string' && raw.service ? raw.service : 'unknown',
    strategy: req.strategy,
    executionArn: req.execution.arn,
    image: typeof raw.image === 'string' ? raw.image : '',
    startedAt: req.execution.startTime ?? now,
  };
  try {
    const input = parseInput(ExecutionInput, req.input);
    checkOptionsFitStrategy(req.strategy, input.strategyOptions);
    const reg = await ports.store.getRegistration(input.environment, input.service);
    if (!reg) {
      const known = await ports.store.listRegistrations(input.environment);
      throw known.length === 0
        ? new ValidationError(
            `invalid input: environment "${input.environment}" is not managed here`,
            'environment',
          )
        : new ValidationError(
            `invalid input: service "${input.service}" is not registered in ${input.environment} (known: ${known.map((r) => r.service.name).join(', ')})`,
            'service',
          );
    }
    const ready = await checkReadiness(ports, reg, input.image, req.execution.arn);
    const plan = buildPlan({
      strategy: req.strategy,
      deployment: reg.service.deployment,
      overrides: input.strategyOptions,
      approvalRequired: reg.approvalRequired,
    });
    const active: ActiveDeployment = {
      deploymentId,
      executionArn: req.execution.arn,
      environment: reg.environment,
      service: reg.service.name,
      acquiredAt: now,
      route: routeOf(reg),
      stableSlot: ready.stableSlot,
      alarmNames: reg.alarmNames,
    };
    const record: DeploymentRecord = {
      ...base,
      status: 'IN_PROGRESS',
      image: input.image,
      reason: input.reason,
      requestedBy: input.requestedBy,
      promotionId: input.promotionId,
      updatedAt: now,
      stable: {
        slot: ready.stableSlot,
        image: ready.stableImage,
        taskDefinitionArn: ready.stableTaskDefinitionArn,
        taskSetArn: ready.stableTaskSetArn,
      },
      candidate: { slot: otherSlot(ready.stableSlot), image: input.image },
      plan,
      stepIndex: 0,
      weights: { stable: 100, candidate: 0 },
      active,
      timeline: [
        {
          at: now,
          event: 'validated',
          message: `${req.strategy} of ${input.image} over ${plan.map((s) => `${s.weight}%`).join(' → ')}; stable ${ready.stableImage} in ${ready.stableSlot}`,
          weights: { stable: 100, candidate: 0 },
        },
      ],
    };
    await ports.store.createDeployment(record);
    return {
      deploymentId,
      environment: reg.environment,
      service: reg.service.name,
      strategy: req.strategy,
      executionArn: req.execution.arn,
      stepIndex: 0,
      stepCount: plan.length,
      step: { weight: plan[0]!.weight, approvalBefore: plan[0]!.approvalBefore, last: plan.length === 1 },
      wait: { seconds: 0 },
      approvalTimeoutSeconds: reg.service.deployment.approvalTimeoutSeconds,
    };
  } catch (err) {
    if (err instanceof ValidationError) {
      await reject(ports, base, err.message, now);
    }
    throw err;
  }
}

interface Readiness {
  stableSlot: Slot;
  stableImage: string;
  stableTaskDefinitionArn: string;
  stableTaskSetArn: string;
}

/** The environment is ready when the service is stable, traffic is whole on one slot, no alarm fires, no lock. */
async function checkReadiness(
  ports: Ports,
  reg: ServiceRegistration,
  image: string,
  executionArn: string,
): Promise<Readiness> {
  const [state, service, weights, firing] = await Promise.all([
    ports.store.getServiceState(reg.environment, reg.service.name),
    ports.capacity.describe(serviceRef(reg)).catch((err: Error) => {
      throw new ValidationError(`not ready: ${err.message}`, 'service', { cause: err });
    }),
    ports.router.getWeights(routeOf(reg)).catch((err: Error) => {
      throw new ValidationError(`not ready: ${err.message}`, 'listener', { cause: err });
    }),
    ports.metrics.alarmsInAlarm(reg.alarmNames),
  ]);
  if (state?.lock && state.lock.executionArn !== executionArn) {
    throw new ValidationError(
      `not ready: deployment ${state.lock.deploymentId} is in progress for ${reg.service.name}`,
      'lock',
    );
  }
  const stable = stableTaskSet(service, reg);
  if (weights.blue !== 100 && weights.green !== 100) {
    throw new ValidationError(
      `not ready: traffic is split (blue ${weights.blue}%, green ${weights.green}%); roll back or finish first`,
      'listener',
    );
  }
  const stableSlot: Slot = weights.blue === 100 ? 'blue' : 'green';
  if (stable.targetGroupArn !== reg.service.targetGroups[stableSlot]) {
    throw new ValidationError(
      `not ready: the primary task set is not behind the ${stableSlot} target group that takes the traffic`,
      'targetGroups',
    );
  }
  if (firing.length > 0) {
    throw new ValidationError(`not ready: alarm in ALARM: ${firing.join(', ')}`, 'alarms');
  }
  const stableImage = await ports.capacity.imageOf(stable.taskDefinitionArn, reg.service.containerName);
  if (stableImage === image) {
    throw new ValidationError(`invalid input: image ${image} is already serving`, 'image');
  }
  return {
    stableSlot,
    stableImage,
    stableTaskDefinitionArn: stable.taskDefinitionArn,
    stableTaskSetArn: stable.arn,
  };
}

function stableTaskSet(service: ServiceInfo, reg: ServiceRegistration) {
  if (service.controller !== 'EXTERNAL') {
    throw new ValidationError(
      `not ready: ECS service ${reg.service.ecsService} does not use the EXTERNAL deployment controller`,
      'service',
    );
  }
  if (service.status !== 'ACTIVE')
    throw new ValidationError(
      `not ready: ECS service ${reg.service.ecsService} is ${service.status}`,
      'service',
    );
  const primary = service.taskSets.filter((t) => t.status === 'PRIMARY');
  if (primary.length !== 1) {
    throw new ValidationError(
      `not ready: ECS service ${reg.service.ecsService} has ${primary.length} primary task sets`,
      'service',
    );
  }
  const others = service.taskSets.filter((t) => t.status !== 'PRIMARY');
  if (others.length > 0) {
    throw new ValidationError(
      `not ready: ECS service ${reg.service.ecsService} still has task set ${others.map((t) => t.id).join(', ')} besides the primary`,
      'service',
    );
  }
  if (!primary[0]!.steady)
    throw new ValidationError(
      `not ready: the primary task set of ${reg.service.ecsService} is not steady`,
      'service',
    );
  return primary[0]!;
}

type RecordBase = Pick<
  DeploymentRecord,
  'deploymentId' | 'environment' | 'service' | 'strategy' | 'executionArn' | 'image' | 'startedAt'
>;

async function reject(ports: Ports, base: RecordBase, reason: string, now: string): Promise<void> {
  const existing = await ports.store.createDeployment({
    ...base,
    status: 'REJECTED',
    updatedAt: now,
    endedAt: now,
    error: reason,
    timeline: [{ at: now, event: 'rejected', message: reason }],
  });
  if (existing.status !== 'REJECTED') {
    await ports.store.updateDeployment(
      base.deploymentId,
      { status: 'REJECTED', endedAt: now, updatedAt: now, error: reason },
      [{ at: now, event: 'rejected', message: reason }],
    );
  }
}

/** Takes the service's lock; another holder ends this deployment REJECTED and touches nothing else. */
export async function lock(ports: Ports, ctx: DeploymentContext): Promise<DeploymentContext> {
  const record = await ports.store.requireDeployment(ctx.deploymentId);
  const now = ports.clock.now().toISOString();
  try {
    await ports.store.acquireLock(record.active!);
  } catch (err) {
    if (err instanceof LockHeldError) {
      await ports.store.updateDeployment(
        ctx.deploymentId,
        { status: 'REJECTED', endedAt: now, updatedAt: now, error: err.message },
        [{ at: now, event: 'rejected', message: err.message }],
      );
    }
    throw err;
  }
  await ports.store.updateDeployment(ctx.deploymentId, { updatedAt: now }, [
    { at: now, event: 'locked', message: `lock taken by ${ctx.executionArn}` },
  ]);
  await ports.notifier.notify({
    event: 'started',
    environment: ctx.environment,
    service: ctx.service,
    deploymentId: ctx.deploymentId,
    message: `${ctx.strategy} deployment of ${record.image} started`,
    executionArn: ctx.executionArn,
    stableImage: record.stable?.image,
    candidateImage: record.image,
  });
  return ctx;
}
