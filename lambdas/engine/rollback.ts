/**
 * RollbackSystem: one implementation for every trigger (alarm, health gate, failed step, timeout, manual,
 * reconciler). Traffic first: the first mutating call puts 100 % back on the stable slot; then the execution is
 * stopped, stable capacity and primary restored, the candidate removed, the result verified and recorded.
 */
import type { RollbackTrigger } from '../domain/config';
import { RollbackFailedError } from '../domain/errors';
import { rollbackActions } from '../domain/plan';
import type {
  ActiveDeployment,
  DeploymentRecord,
  RollbackRecord,
  Slot,
  TerminalStatus,
} from '../domain/records';
import type { SlotWeights } from '../adapters/traffic-router';
import type { Ports } from './ports';

export interface RollbackOrder {
  readonly active: ActiveDeployment;
  readonly trigger: RollbackTrigger;
  readonly reason: string;
  /** Who runs this rollback: the same owner may resume it; another concurrent one backs off. */
  readonly owner: string;
  /** When the triggering event happened. */
  readonly eventAt: string;
  readonly alarmName?: string;
  readonly requestedBy?: string;
  /** Stop the deployment's execution (every trigger but the state machine's own). */
  readonly stopExecution: boolean;
  /** ROLLED_BACK, or ABORTED for an execution an operator stopped. */
  readonly finalStatus?: Extract<TerminalStatus, 'ROLLED_BACK' | 'ABORTED'>;
  /**
   * What a failure after traffic was restored does: `throw` for a caller that retries and records failure itself
   * (the state machine), `record` to retry here and end the deployment FAILED and paged. @default 'throw'
   */
  readonly onFailure?: 'throw' | 'record';
  /** Whether to check the result after rolling back. @default true */
  readonly verify?: boolean;
}

export type RollbackResult =
  | { readonly outcome: 'rolled-back'; readonly rollbackId: string; readonly timeToRestoreTrafficMs: number }
  | { readonly outcome: 'already-handled'; readonly reason: string };

/** Attempts at completing a rollback whose caller will not retry it. */
const COMPLETE_ATTEMPTS = 3;

export const rollbackIdOf = (deploymentId: string) => `${deploymentId}-rollback`;

const stableWeights = (slot: Slot): SlotWeights =>
  slot === 'blue' ? { blue: 100, green: 0 } : { blue: 0, green: 100 };

/** Rolls an active deployment back. Safe to call again with the same owner after a crash at any point. */
export async function rollbackDeployment(ports: Ports, order: RollbackOrder): Promise<RollbackResult> {
  const { active } = order;
  const started = ports.clock.now();
  // 1. Traffic first: nothing before this but the read that found the deployment.
  await ports.router.setWeights(active.route, stableWeights(active.stableSlot));
  const restored = ports.clock.now();
  const restoredAt = restored.toISOString();
  const timeToRestoreTrafficMs = Math.max(0, restored.getTime() - Date.parse(order.eventAt));
  ports.recorder.milliseconds('TimeToRestoreTraffic', timeToRestoreTrafficMs);

  // 2. One owner per rollback.
  const rollbackId = rollbackIdOf(active.deploymentId);
  const record = await ports.store.claimRollback(
    active.deploymentId,
    order.owner,
    { trigger: order.trigger, rollbackId, updatedAt: restoredAt, weights: { stable: 100, candidate: 0 } },
    {
      at: restoredAt,
      event: 'rollback-started',
      message: `${order.trigger}: ${order.reason}; traffic 100% on stable`,
      weights: { stable: 100, candidate: 0 },
    },
  );
  if (!record)
    return {
      outcome: 'already-handled',
      reason: `deployment ${active.deploymentId} is already rolled back or ended`,
    };

  const complete = async (): Promise<void> => {
    // 3. The execution stops (its steps would otherwise keep moving traffic).
    if (order.stopExecution) {
      await ports.executions.stop(
        active.executionArn,
        'RolledBack',
        `${order.trigger}${order.alarmName ? ` (${order.alarmName})` : ''}: ${order.reason}`,
      );
    }

    // 4. Capacity and primary back on stable, candidate removed; then verified.
    const reg = await ports.store.getRegistration(active.environment, active.service);
    if (!reg)
      throw new RollbackFailedError(`service ${active.service} is not registered in ${active.environment}`);
    const ref = { cluster: reg.service.cluster, service: reg.service.ecsService };
    await restoreCapacity(ports, ref, record, active);
    if (order.verify ?? reg.rollback.verify) await verify(ports, ref, record, active);

    // 5. Recorded: the rollback, then the deployment's terminal status with the lock released.
    const completedAt = ports.clock.now().toISOString();
    const rollback: RollbackRecord = {
      rollbackId,
      environment: active.environment,
      service: active.service,
      deploymentId: active.deploymentId,
      trigger: order.trigger,
      reason: order.reason,
      alarmName: order.alarmName,
      requestedBy: order.requestedBy,
      outcome: 'RESTORED',
      eventAt: order.eventAt,
      startedAt: started.toISOString(),
      trafficRestoredAt: restoredAt,
      completedAt,
      timeToRestoreTrafficMs,
    };
    await ports.store.putRollback(rollback);
    const status = order.finalStatus ?? 'ROLLED_BACK';
    await ports.store.finishDeployment(
      { ...record, alarmNames: active.alarmNames },
      {
        status,
        endedAt: completedAt,
        updatedAt: completedAt,
        trigger: order.trigger,
        error: order.reason,
        weights: { stable: 100, candidate: 0 },
        ...(record.status === 'AWAITING_APPROVAL' || record.approval?.taskToken
          ? {
              approval: {
                ...record.approval!,
                taskToken: undefined,
                decision:
                  record.approval?.decision ?? (order.trigger === 'timeout' ? 'timed-out' : 'rejected'),
              },
            }
          : {}),
      },
      [
        {
          at: completedAt,
          event: status === 'ABORTED' ? 'aborted' : 'rolled-back',
          message: `stable ${record.stable?.image} restored; candidate removed`,
          weights: { stable: 100, candidate: 0 },
        },
      ],
    );
    ports.recorder.count('Rollbacks');
    await ports.notifier.notify({
      event: 'rolled-back',
      environment: active.environment,
      service: active.service,
      deploymentId: active.deploymentId,
      message: `${record.image} rolled back (${order.trigger}): ${order.reason}`,
      executionArn: active.executionArn,
      trigger: order.trigger,
      stableImage: record.stable?.image,
      candidateImage: record.image,
    });
  };

  if (order.onFailure !== 'record') {
    await complete();
  } else {
    // No outer retry will come (an event target, the reconciler, an operator): retry here, and if the rollback
    // still cannot complete, end the deployment FAILED with its lock released and page someone.
    for (let attempt = 1; ; attempt++) {
      try {
        await complete();
        break;
      } catch (err) {
        if (attempt >= COMPLETE_ATTEMPTS) {
          await recordRollbackFailure(
            ports,
            active.deploymentId,
            `${(err as Error).name}: ${(err as Error).message}`,
          );
          throw new RollbackFailedError(
            `rollback of ${active.deploymentId} failed after ${attempt} attempts: ${(err as Error).message}`,
            { cause: err },
          );
        }
        await ports.clock.sleep?.(attempt * 1000);
      }
    }
  }
  return { outcome: 'rolled-back', rollbackId, timeToRestoreTrafficMs };
}

async function restoreCapacity(
  ports: Ports,
  ref: { cluster: string; service: string },
  record: DeploymentRecord,
  active: ActiveDeployment,
) {
  const service = await ports.capacity.describe(ref);
  const stable = service.taskSets.find((t) => t.arn === record.stable?.taskSetArn);
  const candidates = service.taskSets.filter(
    (t) =>
      t.externalId === active.deploymentId ||
      (record.candidate?.taskSetArn && t.arn === record.candidate.taskSetArn),
  );
  if (!stable)
    throw new RollbackFailedError(
      `stable task set of ${active.service} is gone; traffic is on ${active.stableSlot} with nothing behind it`,
    );
  const actions = rollbackActions({
    candidateWeight: 0, // already restored above
    stableScale: stable.scale,
    stableIsPrimary: stable.status === 'PRIMARY',
    candidateExists: candidates.length > 0,
  });
  for (const action of actions) {
    if (action.kind === 'scale-stable') await ports.capacity.setScale(ref, stable.arn, 100);
    else if (action.kind === 'make-stable-primary') await ports.capacity.makePrimary(ref, stable.arn);
    else if (action.kind === 'delete-candidate')
      for (const c of candidates) await ports.capacity.deleteTaskSet(ref, c.arn);
  }
}

async function verify(
  ports: Ports,
  ref: { cluster: string; service: string },
  record: DeploymentRecord,
  active: ActiveDeployment,
) {
  const [weights, service] = await Promise.all([
    ports.router.getWeights(active.route),
    ports.capacity.describe(ref),
  ]);
  if (weights[active.stableSlot] !== 100) {
    // A step in flight moved traffic after the restore: restore again, once.
    await ports.router.setWeights(active.route, stableWeights(active.stableSlot));
    const again = await ports.router.getWeights(active.route);
    if (again[active.stableSlot] !== 100)
      throw new RollbackFailedError(`traffic is not back on ${active.stableSlot}`);
  }
  const left = service.taskSets.filter(
    (t) => t.arn !== record.stable?.taskSetArn && t.externalId === active.deploymentId,
  );
  if (left.length > 0)
    throw new RollbackFailedError(`candidate task set ${left.map((t) => t.id).join(', ')} still present`);
  const primary = service.taskSets.find((t) => t.status === 'PRIMARY');
  if (primary?.arn !== record.stable?.taskSetArn)
    throw new RollbackFailedError('the stable task set is not primary');
}

/**
 * A rollback that could not complete: the record ends FAILED with the lock released, and someone is paged.
 */
export async function recordRollbackFailure(
  ports: Ports,
  deploymentId: string,
  reason: string,
): Promise<void> {
  const record = await ports.store.requireDeployment(deploymentId);
  const at = ports.clock.now().toISOString();
  const alarmNames = record.active?.alarmNames ?? [];
  await ports.store.finishDeployment(
    { ...record, alarmNames },
    { status: 'FAILED', endedAt: at, updatedAt: at, error: reason },
    [{ at, event: 'rollback-failed', message: reason }],
  );
  await ports.store.putRollback({
    rollbackId: rollbackIdOf(deploymentId),
    environment: record.environment,
    service: record.service,
    deploymentId,
    trigger: record.trigger ?? 'deployment-failure',
    reason,
    outcome: 'FAILED',
    eventAt: at,
    startedAt: at,
    completedAt: at,
  });
  const page = {
    event: 'rollback-failed' as const,
    environment: record.environment,
    service: record.service,
    deploymentId,
    message: `rollback of ${record.image} could not complete: ${reason}. Traffic may not be safe: check the listener of ${record.service}.`,
    executionArn: record.executionArn,
  };
  await ports.notifier.page(page);
  await ports.notifier.notify({ ...page, event: 'failed' });
}
