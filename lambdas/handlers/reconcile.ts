/**
 * The reconciler: on a deployment execution that ended FAILED, TIMED_OUT or ABORTED, makes traffic safe and ends
 * the record if nothing else did. A malformed event is logged and dropped.
 */
import { portsFrom, type MetricsRecorder } from '../engine/ports';
import { ExecutionStatusChangeEvent, onExecutionEnded } from '../engine/triggers';
import type { Deps } from '../runtime/deps';
import { lambdaHandler } from '../runtime/handler';
import { ROLLBACK_CLIENTS } from '../runtime/rollback-clients';
import { logger } from '../runtime/logger';

/** How long a dropped event is kept for inspection. */
const DROPPED_EVENT_DAYS = 30;

export function make(deps: Deps, recorder?: MetricsRecorder) {
  const ports = portsFrom(deps, recorder);
  return async (event: unknown) => {
    const parsed = ExecutionStatusChangeEvent.safeParse(event);
    if (!parsed.success) {
      const reason = `not an execution status change: ${parsed.error.issues[0]?.path.join('.') || 'event'} ${parsed.error.issues[0]?.message}`;
      logger.warn('malformed event dropped', { reason, event });
      const now = deps.clock.now();
      await ports.store.putDroppedEvent(
        'reconcile',
        reason,
        event,
        now.toISOString(),
        Math.floor(now.getTime() / 1000) + DROPPED_EVENT_DAYS * 86_400,
      );
      return { outcome: 'dropped' as const, reason };
    }
    const result = await onExecutionEnded(ports, parsed.data);
    logger.info('execution reconciled', { executionArn: parsed.data.detail.executionArn, result });
    return result;
  };
}

export const handler = lambdaHandler(ROLLBACK_CLIENTS, make);
