/** The manual rollback state machine's step: an operator's rollback, during or after a deployment. */
import { portsFrom, type MetricsRecorder } from '../engine/ports';
import { onManualRollback } from '../engine/triggers';
import type { Deps } from '../runtime/deps';
import { lambdaHandler } from '../runtime/handler';
import { ROLLBACK_CLIENTS } from '../runtime/rollback-clients';

export type Event = { input: unknown; execution: { arn: string } };

export function make(deps: Deps, recorder?: MetricsRecorder) {
  const ports = portsFrom(deps, recorder);
  return (event: Event) => onManualRollback(ports, event.input, event.execution);
}

export const handler = lambdaHandler(ROLLBACK_CLIENTS, make);
