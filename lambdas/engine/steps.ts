/**
 * The traffic steps of a deployment: start the candidate, wait for it, shift, bake under the health gate,
 * approval, finalize and retire. Each is idempotent: the same input retried gives the same state.
 */
import { DeploymentStepError, StepTimeoutError } from '../domain/errors';
import { candidateReadiness, decide, judge, nextCheckSeconds, type GateProgress } from '../domain/health';
import { initialCandidateScale, shiftActions } from '../domain/plan';
import type { DeploymentRecord, Slot, TimelineEntry } from '../domain/records';
import { loadBalancerDimension, targetGroupDimension } from '../domain/config';
import type { ServiceRegistration } from '../domain/registration';
import type { ServiceInfo, TaskSetInfo } from '../adapters/capacity';
import type { SlotWeights } from '../adapters/traffic-router';
import type { DeploymentContext } from './context';
import type { Ports } from './ports';
import { routeOf, serviceRef } from './validate';

/** Polling interval while waiting for the candidate to become steady. */
export const STEADY_POLL_SECONDS = 15;

async function load(
  ports: Ports,
  ctx: DeploymentContext,
): Promise<{ record: DeploymentRecord; reg: ServiceRegistration }> {
  const [record, reg] = await Promise.all([
    ports.store.requireDeployment(ctx.deploymentId),
    ports.store.getRegistration(ctx.environment, ctx.service),
  ]);
  if (!reg)
    throw new DeploymentStepError(`service ${ctx.service} is no longer registered in ${ctx.environment}`);
  if (record.status !== 'IN_PROGRESS' && record.status !== 'AWAITING_APPROVAL') {
    throw new DeploymentStepError(`deployment ${ctx.deploymentId} is ${record.status}; no further step runs`);
  }
  return { record, reg };
}

const candidateOf = (service: ServiceInfo, deploymentId: string): TaskSetInfo | undefined =>
  service.taskSets.find((t) => t.externalId === deploymentId);

const slotWeights = (stableSlot: Slot, candidate: number): SlotWeights =>
  stableSlot === 'blue'
    ? { blue: 100 - candidate, green: candidate }
    : { blue: candidate, green: 100 - candidate };

export async function startCandidate(ports: Ports, ctx: DeploymentContext): Promise<DeploymentContext> {
  const { record, reg } = await load(ports, ctx);
  const now = ports.clock.now();
  const ref = serviceRef(reg);
  const service = await ports.capacity.describe(ref);
  let candidate = candidateOf(service, ctx.deploymentId);
  const timeline: TimelineEntry[] = [];
  let taskDefinitionArn = record.candidate?.taskDefinitionArn;
  if (!candidate) {
    taskDefinitionArn ??= await ports.capacity.registerCandidate(
      record.stable!.taskDefinitionArn!,
      reg.service.containerName,
      record.image,
    );
    candidate = await ports.capacity.createTaskSet(ref, {
      taskDefinitionArn,
      targetGroupArn: reg.service.targetGroups[record.candidate!.slot],
      containerName: reg.service.containerName,
      containerPort: reg.service.containerPort,
      scale: initialCandidateScale(record.plan!),
      externalId: ctx.deploymentId,
      like: ports.capacity.raw(record.stable!.taskSetArn!),
    });
    timeline.push({
      at: now.toISOString(),
      event: 'candidate-started',
      message: `task set ${candidate.id} (${taskDefinitionArn.split('/').pop()}) in ${record.candidate!.slot} at ${candidate.scale}%`,
    });
  }
  await ports.store.updateDeployment(
    ctx.deploymentId,
    {
      candidate: {
        ...record.candidate!,
        taskDefinitionArn: candidate.taskDefinitionArn,
        taskSetArn: candidate.arn,
      },
      updatedAt: now.toISOString(),
    },
    timeline,
  );
  const deadline = new Date(now.getTime() + reg.service.deployment.steadyTimeoutSeconds * 1000).toISOString();
  return { ...ctx, steadyDeadline: deadline, candidateReady: false, wait: { seconds: STEADY_POLL_SECONDS } };
}

/** Ready means the task set is steady and its target group reports healthy hosts (see candidateReadiness). */
export async function checkCandidate(ports: Ports, ctx: DeploymentContext): Promise<DeploymentContext> {
  const { record, reg } = await load(ports, ctx);
  const now = ports.clock.now();
  const service = await ports.capacity.describe(serviceRef(reg));
  const candidate = candidateOf(service, ctx.deploymentId);
  if (!candidate) throw new DeploymentStepError(`candidate task set of ${ctx.deploymentId} is gone`);
  const sample = await ports.metrics.sample({
    targetGroup: targetGroupDimension(reg.service.targetGroups[record.candidate!.slot]),
    loadBalancer: loadBalancerDimension(reg.service.listener.arn),
    start: new Date(now.getTime() - 60_000),
    end: now,
    latencyStatistic: reg.service.health.latencyPercentile,
  });
  const { ready, reason } = candidateReadiness(
    candidate.steady,
    sample,
    reg.service.health.maxUnhealthyHosts,
  );
  if (ready) {
    await ports.store.updateDeployment(ctx.deploymentId, { updatedAt: now.toISOString() }, [
      {
        at: now.toISOString(),
        event: 'candidate-ready',
        message: `task set ${candidate.id} steady: ${reason}`,
      },
    ]);
    return { ...ctx, candidateReady: true, wait: { seconds: 0 } };
  }
  if (ctx.steadyDeadline && now.toISOString() >= ctx.steadyDeadline) {
    throw new StepTimeoutError(
      `candidate task set ${candidate.id} not ready within ${reg.service.deployment.steadyTimeoutSeconds} s: ${reason}`,
    );
  }
  return { ...ctx, candidateReady: false, wait: { seconds: STEADY_POLL_SECONDS } };
}

/**
 * Applies the current step: capacity up before traffic moves onto it, traffic off before capacity goes down.
 * Absolute settings, so a retried step converges on the same state.
 */
export async function shiftTraffic(ports: Ports, ctx: DeploymentContext): Promise<DeploymentContext> {
  const { record, reg } = await load(ports, ctx);
  const step = record.plan![ctx.stepIndex]!;
  const ref = serviceRef(reg);
  const route = routeOf(reg);
  const stableSlot = record.stable!.slot;
  const [service, weights] = await Promise.all([
    ports.capacity.describe(ref),
    ports.router.getWeights(route),
  ]);
  const candidate = candidateOf(service, ctx.deploymentId);
  const stable = service.taskSets.find((t) => t.arn === record.stable!.taskSetArn);
  if (!candidate || !stable)
    throw new DeploymentStepError(`task sets of ${ctx.deploymentId} are not both present`);
  const actions = shiftActions(
    {
      candidateScale: candidate.scale,
      stableScale: stable.scale,
      candidateWeight: weights[record.candidate!.slot],
    },
    step,
  );
  for (const action of actions) {
    if (action.kind === 'scale-candidate') await ports.capacity.setScale(ref, candidate.arn, action.scale);
    else if (action.kind === 'scale-stable') await ports.capacity.setScale(ref, stable.arn, action.scale);
    else await ports.router.setWeights(route, slotWeights(stableSlot, action.candidate));
  }
  const now = ports.clock.now().toISOString();
  const updated = await ports.store.updateDeployment(
    ctx.deploymentId,
    {
      status: 'IN_PROGRESS',
      stepIndex: ctx.stepIndex,
      weights: { stable: 100 - step.weight, candidate: step.weight },
      updatedAt: now,
    },
    [
      {
        at: now,
        event: 'traffic-shifted',
        message: `step ${ctx.stepIndex + 1}/${ctx.stepCount}: ${step.weight}% on the candidate (candidate scale ${step.candidateScale}%, stable scale ${step.stableScale}%)`,
        step: ctx.stepIndex,
        weights: { stable: 100 - step.weight, candidate: step.weight },
      },
    ],
  );
  if (!updated) {
    // A rollback ended this deployment while the step ran: put traffic back and stop here.
    await ports.router.setWeights(route, slotWeights(stableSlot, 0));
    throw new DeploymentStepError(
      `deployment ${ctx.deploymentId} ended while shifting; traffic restored to stable`,
    );
  }
  const progress: GateProgress = {
    elapsedSeconds: 0,
    bakeSeconds: step.bakeSeconds,
    unknownStreak: 0,
    degradedStreak: 0,
  };
  const interval = reg.service.deployment.healthCheckIntervalSeconds;
  return {
    ...ctx,
    gate: { outcome: 'wait', progress },
    wait: { seconds: nextCheckSeconds(progress, interval) },
  };
}

/** Judges the candidate after a wait of the bake; passes the step once the bake is over and healthy. */
export async function healthGate(ports: Ports, ctx: DeploymentContext): Promise<DeploymentContext> {
  const { record, reg } = await load(ports, ctx);
  const now = ports.clock.now();
  const interval = reg.service.deployment.healthCheckIntervalSeconds;
  const previous = ctx.gate?.progress ?? {
    elapsedSeconds: 0,
    bakeSeconds: 0,
    unknownStreak: 0,
    degradedStreak: 0,
  };
  const progress = { ...previous, elapsedSeconds: previous.elapsedSeconds + ctx.wait.seconds };
  const windowSeconds = Math.max(60, Math.min(interval, progress.elapsedSeconds || interval));
  const [firing, sample] = await Promise.all([
    ports.metrics.alarmsInAlarm(reg.alarmNames),
    ports.metrics.sample({
      targetGroup: targetGroupDimension(reg.service.targetGroups[record.candidate!.slot]),
      loadBalancer: loadBalancerDimension(reg.service.listener.arn),
      start: new Date(now.getTime() - windowSeconds * 1000),
      end: now,
      latencyStatistic: reg.service.health.latencyPercentile,
    }),
  ]);
  const verdict = judge({ alarmsInAlarm: firing, sample, thresholds: reg.service.health });
  const decision = decide(verdict, progress, reg.service.health);
  const at = now.toISOString();
  await ports.store.updateDeployment(
    ctx.deploymentId,
    { lastVerdict: { status: decision.verdict.status, reason: decision.verdict.reason, at }, updatedAt: at },
    [
      {
        at,
        event: 'health-verdict',
        message: `${decision.outcome}: ${decision.verdict.reason} (${progress.elapsedSeconds}/${progress.bakeSeconds} s baked)`,
        step: ctx.stepIndex,
        verdict: decision.verdict.status,
        weights: record.weights,
      },
    ],
  );
  if (decision.outcome === 'fail') {
    return {
      ...ctx,
      gate: { outcome: 'fail', progress, trigger: decision.trigger, reason: decision.verdict.reason },
      wait: { seconds: 0 },
    };
  }
  if (decision.outcome === 'wait') {
    return {
      ...ctx,
      gate: { outcome: 'wait', progress: decision.progress },
      wait: { seconds: nextCheckSeconds(decision.progress, interval) },
    };
  }
  if (ctx.step.last)
    return { ...ctx, gate: { outcome: 'pass', progress }, complete: true, wait: { seconds: 0 } };
  const nextIndex = ctx.stepIndex + 1;
  const next = record.plan![nextIndex]!;
  return {
    ...ctx,
    stepIndex: nextIndex,
    step: {
      weight: next.weight,
      approvalBefore: next.approvalBefore,
      last: nextIndex === record.plan!.length - 1,
    },
    gate: { outcome: 'pass', progress },
    wait: { seconds: 0 },
  };
}

/** Keeps the task token on the record and tells people; the state machine then waits for the decision. */
export async function requestApproval(
  ports: Ports,
  ctx: DeploymentContext,
  taskToken: string,
): Promise<void> {
  const { record } = await load(ports, ctx);
  const at = ports.clock.now().toISOString();
  await ports.store.updateDeployment(
    ctx.deploymentId,
    { status: 'AWAITING_APPROVAL', approval: { requestedAt: at, taskToken }, updatedAt: at },
    [
      {
        at,
        event: 'approval-requested',
        message: `approval needed before ${ctx.step.weight}% (times out after ${ctx.approvalTimeoutSeconds} s)`,
        step: ctx.stepIndex,
      },
    ],
  );
  await ports.notifier.notify({
    event: 'awaiting-approval',
    environment: ctx.environment,
    service: ctx.service,
    deploymentId: ctx.deploymentId,
    message: `${record.image} waits for approval before ${ctx.step.weight}% of traffic: envctl approve ${ctx.deploymentId}`,
    executionArn: ctx.executionArn,
    stableImage: record.stable?.image,
    candidateImage: record.image,
  });
}

/**
 * The candidate becomes primary, the service state records the new stable version and keeps the old one for
 * the termination wait, the lock is released and the record ends SUCCEEDED, all in one transaction.
 */
export async function finalize(ports: Ports, ctx: DeploymentContext): Promise<DeploymentContext> {
  const { record, reg } = await load(ports, ctx);
  const ref = serviceRef(reg);
  await ports.capacity.makePrimary(ref, record.candidate!.taskSetArn!);
  const now = ports.clock.now();
  const at = now.toISOString();
  const wait = reg.service.deployment.terminationWaitSeconds;
  const retireAfter = new Date(now.getTime() + wait * 1000).toISOString();
  await ports.store.finishDeployment(
    { ...record, alarmNames: record.active?.alarmNames ?? reg.alarmNames },
    { status: 'SUCCEEDED', endedAt: at, updatedAt: at, weights: { stable: 0, candidate: 100 } },
    [
      {
        at,
        event: 'succeeded',
        message: `${record.image} is primary on ${record.candidate!.slot}; ${record.stable!.image} kept until ${retireAfter}`,
        weights: { stable: 0, candidate: 100 },
      },
    ],
    {
      stable: record.candidate!,
      previous: { ...record.stable!, retireAfter, deploymentId: ctx.deploymentId },
    },
  );
  await ports.notifier.notify({
    event: 'succeeded',
    environment: ctx.environment,
    service: ctx.service,
    deploymentId: ctx.deploymentId,
    message: `${record.image} serves 100% of ${ctx.service} in ${ctx.environment}`,
    executionArn: ctx.executionArn,
    stableImage: record.stable?.image,
    candidateImage: record.image,
  });
  return { ...ctx, complete: true, wait: { seconds: wait } };
}

/** After the termination wait: removes the old task set, unless a manual rollback already brought it back. */
export async function retire(ports: Ports, ctx: DeploymentContext): Promise<DeploymentContext> {
  const [state, reg] = await Promise.all([
    ports.store.getServiceState(ctx.environment, ctx.service),
    ports.store.getRegistration(ctx.environment, ctx.service),
  ]);
  const at = ports.clock.now().toISOString();
  const previous = state?.previous;
  if (!reg || !previous || previous.deploymentId !== ctx.deploymentId || !previous.taskSetArn) {
    await ports.store.updateDeployment(
      ctx.deploymentId,
      {},
      [{ at, event: 'retire-skipped', message: 'the old task set was already removed or restored' }],
      {
        allowTerminal: true,
      },
    );
    return ctx;
  }
  const ref = serviceRef(reg);
  await ports.capacity.setScale(ref, previous.taskSetArn, 0);
  await ports.capacity.deleteTaskSet(ref, previous.taskSetArn);
  await ports.store.clearPrevious(ctx.environment, ctx.service, at);
  await ports.store.updateDeployment(
    ctx.deploymentId,
    {},
    [{ at, event: 'old-version-retired', message: `task set of ${previous.image} removed` }],
    {
      allowTerminal: true,
    },
  );
  return ctx;
}
