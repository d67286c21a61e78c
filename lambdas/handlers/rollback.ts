/**
 * RollbackSystem's Lambda: the target of the environment's alarm rule, and the rollback step of every deployment
 * state machine. One implementation behind both; an event it cannot read is logged and dropped, not crashed on.
 */
import type { DeploymentContext, RollbackRequest } from '../engine/context';
import { portsFrom, type MetricsRecorder } from '../engine/ports';
import { AlarmStateChangeEvent, onAlarm, onExecutionRollback, type TriggerResult } from '../engine/triggers';
import type { Deps } from '../runtime/deps';
import { lambdaHandler } from '../runtime/handler';
import { ROLLBACK_CLIENTS } from '../runtime/rollback-clients';
import { logger } from '../runtime/logger';

export type Event = { deployment: DeploymentContext; rollback: RollbackRequest } | Record<string, unknown>;

/** How long a dropped event is kept for inspection. */
const DROPPED_EVENT_DAYS = 30;

export function make(deps: Deps, recorder?: MetricsRecorder) {
  const ports = portsFrom(deps, recorder);
  return async (event: Event): Promise<TriggerResult | { outcome: 'dropped'; reason: string }> => {
    if ('deployment' in event && 'rollback' in event) {
      return onExecutionRollback(
        ports,
        event as { deployment: DeploymentContext; rollback: RollbackRequest },
      );
    }
    const parsed = AlarmStateChangeEvent.safeParse(event);
    if (!parsed.success) {
      const reason = `not an alarm state change or rollback request: ${parsed.error.issues[0]?.path.join('.') || 'event'} ${parsed.error.issues[0]?.message}`;
      logger.warn('malformed event dropped', { reason, event });
      const now = deps.clock.now();
      await ports.store.putDroppedEvent(
        'rollback',
        reason,
        event,
        now.toISOString(),
        Math.floor(now.getTime() / 1000) + DROPPED_EVENT_DAYS * 86_400,
      );
      return { outcome: 'dropped', reason };
    }
    const result = await onAlarm(ports, parsed.data);
    logger.info('alarm handled', { alarmName: parsed.data.detail.alarmName, result });
    return result;
  };
}

export const handler = lambdaHandler(ROLLBACK_CLIENTS, make);
