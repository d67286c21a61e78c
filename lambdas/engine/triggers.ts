/**
 * The ways into a rollback: an alarm event, the state machine's own rollback step, an operator, and the
 * reconciler for executions that ended without a terminal record.
 */
import * as z from 'zod';
import { ValidationError } from '../domain/errors';
import { ManualRollbackInput, parseInput } from '../domain/input';
import type { ActiveDeployment, RollbackRecord, Slot } from '../domain/records';
import { deploymentIdFromExecutionArn } from '../domain/records';
import type { DeploymentContext, RollbackRequest } from './context';
import { reasonOf } from './context';
import type { Ports } from './ports';
import { rollbackDeployment, type RollbackResult } from './rollback';

export const AlarmStateChangeEvent = z.object({
  id: z.string().min(1),
  'detail-type': z.literal('CloudWatch Alarm State Change'),
  source: z.literal('aws.cloudwatch'),
  time: z.string().min(1),
  resources: z.array(z.string()).optional(),
  detail: z.object({
    alarmName: z.string().min(1),
    state: z.object({ value: z.string(), reason: z.string().optional(), timestamp: z.string().optional() }),
    previousState: z.object({ value: z.string() }).partial().optional(),
  }),
});
export type AlarmStateChangeEvent = z.infer<typeof AlarmStateChangeEvent>;

export const ExecutionStatusChangeEvent = z.object({
  id: z.string().min(1),
  'detail-type': z.literal('Step Functions Execution Status Change'),
  source: z.literal('aws.states'),
  time: z.string().min(1),
  detail: z.object({
    executionArn: z.string().min(1),
    stateMachineArn: z.string().min(1),
    name: z.string().min(1),
    status: z.enum(['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED', 'PENDING_REDRIVE']),
    input: z.string().nullable().optional(),
    error: z.string().nullable().optional(),
    cause: z.string().nullable().optional(),
  }),
});
export type ExecutionStatusChangeEvent = z.infer<typeof ExecutionStatusChangeEvent>;

export type TriggerResult = RollbackResult | { readonly outcome: 'ignored'; readonly reason: string };

/** Alarms of one service within this time after its deployment was rolled back belong to that incident. */
const INCIDENT_WINDOW_MS = 15 * 60 * 1000;

/** Events already handled are remembered this long (EventBridge redelivers within hours, not days). */
const EVENT_MEMORY_SECONDS = 7 * 24 * 3600;

/**
 * An alarm went into ALARM. One read finds the service's active deployment (with everything needed to restore
 * traffic), then the listener change. Duplicates and concurrent alarms of one service give one rollback.
 */
export async function onAlarm(ports: Ports, event: AlarmStateChangeEvent): Promise<TriggerResult> {
  const alarmName = event.detail.alarmName;
  if (event.detail.state.value !== 'ALARM')
    return { outcome: 'ignored', reason: `${alarmName} is ${event.detail.state.value}` };
  const alarm = await ports.store.getAlarm(alarmName);
  const eventAt = event.detail.state.timestamp ? toIso(event.detail.state.timestamp) : event.time;
  if (alarm?.active) {
    return rollbackDeployment(ports, {
      active: alarm.active,
      trigger: 'alarm',
      reason: `alarm ${alarmName} in ALARM${event.detail.state.reason ? `: ${event.detail.state.reason}` : ''}`,
      owner: `alarm:${alarmName}:${event.id}`,
      eventAt,
      alarmName,
      stopExecution: true,
      onFailure: 'record',
    });
  }
  // Alarms of the same incident that arrive after its rollback finished are part of that rollback.
  const ended = alarm?.ended;
  if (
    ended &&
    ended.status !== 'SUCCEEDED' &&
    Date.parse(eventAt) - Date.parse(ended.at) < INCIDENT_WINDOW_MS
  ) {
    return {
      outcome: 'already-handled',
      reason: `deployment ${ended.deploymentId} already ended ${ended.status} at ${ended.at}`,
    };
  }
  const expires = Math.floor(ports.clock.now().getTime() / 1000) + EVENT_MEMORY_SECONDS;
  if (!(await ports.store.claimEvent(`alarm:${event.id}`, expires))) {
    return { outcome: 'ignored', reason: `event ${event.id} was already handled` };
  }
  const reason = alarm
    ? `no active deployment of ${alarm.service} in ${alarm.environment}: nothing to roll back`
    : `alarm ${alarmName} belongs to no registered service`;
  if (alarm)
    await recordIgnored(ports, {
      environment: alarm.environment,
      service: alarm.service,
      alarmName,
      eventAt,
      reason,
      id: event.id,
    });
  return { outcome: 'ignored', reason };
}

/** The state machine's own rollback step (Catch, failed gate, timeout, rejected approval). */
export async function onExecutionRollback(
  ports: Ports,
  req: { deployment: DeploymentContext; rollback: RollbackRequest },
): Promise<TriggerResult> {
  const record = await ports.store.requireDeployment(req.deployment.deploymentId);
  if (!record.active)
    return { outcome: 'ignored', reason: `deployment ${record.deploymentId} never took traffic` };
  return rollbackDeployment(ports, {
    active: record.active,
    trigger: req.rollback.trigger,
    reason: reasonOf(req.rollback),
    owner: `execution:${record.executionArn}`,
    eventAt: ports.clock.now().toISOString(),
    stopExecution: false,
  });
}

/**
 * An operator's rollback. During a deployment: that deployment is rolled back. After one: the previous version is
 * restored while its task set still exists. Otherwise nothing changes, and the result says why.
 */
export async function onManualRollback(
  ports: Ports,
  raw: unknown,
  execution: { arn: string },
): Promise<TriggerResult> {
  const input = parseInput(ManualRollbackInput, raw);
  const [state, reg] = await Promise.all([
    ports.store.getServiceState(input.environment, input.service),
    ports.store.getRegistration(input.environment, input.service),
  ]);
  if (!reg)
    throw new ValidationError(
      `invalid input: service "${input.service}" is not registered in ${input.environment}`,
      'service',
    );
  const now = ports.clock.now().toISOString();
  if (state?.lock) {
    return rollbackDeployment(ports, {
      active: state.lock,
      trigger: 'manual',
      reason: input.reason,
      owner: `manual:${execution.arn}`,
      eventAt: now,
      requestedBy: input.requestedBy,
      stopExecution: true,
      onFailure: 'record',
    });
  }
  const previous = state?.previous;
  if (!previous?.taskSetArn || !state?.stable) {
    const reason = `${input.service} in ${input.environment} is stable${state?.stable ? ` on ${state.stable.image}` : ''} and no previous version is kept: nothing to roll back`;
    await recordIgnored(ports, {
      environment: input.environment,
      service: input.service,
      eventAt: now,
      reason,
      id: deploymentIdFromExecutionArn(execution.arn),
      requestedBy: input.requestedBy,
    });
    return { outcome: 'ignored', reason };
  }
  const ref = { cluster: reg.service.cluster, service: reg.service.ecsService };
  const live = await ports.capacity.describe(ref);
  if (!live.taskSets.some((t) => t.arn === previous.taskSetArn)) {
    const reason = `the task set of ${previous.image} was already retired: deploy that image again instead`;
    await recordIgnored(ports, {
      environment: input.environment,
      service: input.service,
      eventAt: now,
      reason,
      id: deploymentIdFromExecutionArn(execution.arn),
      requestedBy: input.requestedBy,
    });
    return { outcome: 'ignored', reason };
  }
  // A finished deployment: the previous version comes back under a lock of its own.
  const lock: ActiveDeployment = {
    deploymentId: previous.deploymentId,
    executionArn: execution.arn,
    environment: input.environment,
    service: input.service,
    acquiredAt: now,
    route: {
      listenerArn: reg.service.listener.arn,
      ...(reg.service.listener.ruleArn ? { ruleArn: reg.service.listener.ruleArn } : {}),
      targetGroups: reg.service.targetGroups,
    },
    stableSlot: previous.slot as Slot,
    alarmNames: reg.alarmNames,
  };
  await ports.store.acquireLock(lock);
  try {
    const weights = previous.slot === 'blue' ? { blue: 100, green: 0 } : { blue: 0, green: 100 };
    await ports.router.setWeights(lock.route, weights);
    const restoredAt = ports.clock.now().toISOString();
    await ports.capacity.setScale(ref, previous.taskSetArn, 100);
    await ports.capacity.makePrimary(ref, previous.taskSetArn);
    if (state.stable.taskSetArn) await ports.capacity.deleteTaskSet(ref, state.stable.taskSetArn);
    await ports.store.setStable(
      input.environment,
      input.service,
      {
        slot: previous.slot,
        image: previous.image,
        taskDefinitionArn: previous.taskDefinitionArn,
        taskSetArn: previous.taskSetArn,
      },
      null,
      restoredAt,
    );
    const rollbackId = `${previous.deploymentId}-manual-${deploymentIdFromExecutionArn(execution.arn)}`;
    const completedAt = ports.clock.now().toISOString();
    await ports.store.putRollback({
      rollbackId,
      environment: input.environment,
      service: input.service,
      deploymentId: previous.deploymentId,
      trigger: 'manual',
      reason: input.reason,
      requestedBy: input.requestedBy,
      outcome: 'RESTORED',
      eventAt: now,
      startedAt: now,
      trafficRestoredAt: restoredAt,
      completedAt,
      timeToRestoreTrafficMs: Date.parse(restoredAt) - Date.parse(now),
      detail: `restored ${previous.image} over ${state.stable.image} after the deployment had finished`,
    });
    await ports.store.updateDeployment(
      previous.deploymentId,
      { rollbackId },
      [
        {
          at: completedAt,
          event: 'rolled-back-after-success',
          message: `${input.requestedBy}: ${input.reason}; ${previous.image} restored`,
          weights: { stable: 100, candidate: 0 },
        },
      ],
      { allowTerminal: true },
    );
    return {
      outcome: 'rolled-back',
      rollbackId,
      timeToRestoreTrafficMs: Date.parse(restoredAt) - Date.parse(now),
    };
  } finally {
    await ports.store.releaseLock(lock, ports.clock.now().toISOString());
  }
}

/**
 * An execution ended FAILED, TIMED_OUT or ABORTED. If its deployment has no terminal record, traffic is made safe
 * and the record ends; an execution that never wrote a record gets one.
 */
export async function onExecutionEnded(
  ports: Ports,
  event: ExecutionStatusChangeEvent,
): Promise<TriggerResult> {
  const { detail } = event;
  if (!['FAILED', 'TIMED_OUT', 'ABORTED'].includes(detail.status))
    return { outcome: 'ignored', reason: `execution is ${detail.status}` };
  const deploymentId = detail.name;
  const record = await ports.store.getDeployment(deploymentId);
  const now = ports.clock.now().toISOString();
  const why = `execution ${detail.status}${detail.error ? ` (${detail.error}${detail.cause ? `: ${detail.cause.slice(0, 300)}` : ''})` : ''}`;
  if (!record) {
    let input: Record<string, unknown> = {};
    try {
      input = JSON.parse(detail.input ?? '{}') as Record<string, unknown>;
    } catch {
      input = {};
    }
    if (typeof input.environment !== 'string' || typeof input.service !== 'string') {
      return { outcome: 'ignored', reason: `${why} before it named a service: no deployment to record` };
    }
    await ports.store.createDeployment({
      deploymentId,
      environment: input.environment,
      service: input.service,
      strategy: 'canary',
      status: detail.status === 'ABORTED' ? 'ABORTED' : 'REJECTED',
      executionArn: detail.executionArn,
      image: typeof input.image === 'string' ? input.image : '',
      startedAt: now,
      updatedAt: now,
      endedAt: now,
      error: `${why} before validation; nothing was changed`,
      timeline: [{ at: now, event: 'reconciled', message: `${why} before validation; nothing was changed` }],
    });
    return { outcome: 'ignored', reason: `${why} before validation; recorded` };
  }
  if (['SUCCEEDED', 'ROLLED_BACK', 'FAILED', 'REJECTED', 'ABORTED'].includes(record.status)) {
    return { outcome: 'ignored', reason: `deployment ${deploymentId} already ended ${record.status}` };
  }
  if (!record.active) return { outcome: 'ignored', reason: `deployment ${deploymentId} holds no lock` };
  return rollbackDeployment(ports, {
    active: record.active,
    trigger:
      detail.status === 'TIMED_OUT'
        ? 'timeout'
        : detail.status === 'ABORTED'
          ? 'manual'
          : 'deployment-failure',
    reason: why,
    owner: `reconciler:${detail.executionArn}`,
    eventAt: event.time,
    stopExecution: false,
    finalStatus: detail.status === 'ABORTED' ? 'ABORTED' : 'ROLLED_BACK',
    onFailure: 'record',
  });
}

async function recordIgnored(
  ports: Ports,
  r: {
    environment: string;
    service: string;
    alarmName?: string;
    eventAt: string;
    reason: string;
    id: string;
    requestedBy?: string;
  },
): Promise<void> {
  const at = ports.clock.now().toISOString();
  const record: RollbackRecord = {
    rollbackId: `ignored-${r.id}`,
    environment: r.environment,
    service: r.service,
    trigger: r.alarmName ? 'alarm' : 'manual',
    reason: r.reason,
    alarmName: r.alarmName,
    requestedBy: r.requestedBy,
    outcome: 'IGNORED',
    eventAt: r.eventAt,
    startedAt: at,
    completedAt: at,
  };
  await ports.store.putRollback(record);
}

/** CloudWatch writes `2026-10-02T17:04:40.989+0000`; normalise to ISO. */
function toIso(ts: string): string {
  const d = new Date(ts.replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
  return Number.isNaN(d.getTime()) ? ts : d.toISOString();
}
