/**
 * The deployment context: what the state machines carry from step to step in `$.deployment`, and what Choice
 * states branch on. Kept small; each step reads the full record from the table.
 */
import type { RollbackTrigger, Strategy } from '../domain/config';
import type { GateProgress } from '../domain/health';

export interface DeploymentContext {
  readonly deploymentId: string;
  readonly environment: string;
  readonly service: string;
  readonly strategy: Strategy;
  readonly executionArn: string;
  readonly stepIndex: number;
  readonly stepCount: number;
  /** The step about to be applied (or being baked). */
  readonly step: { readonly weight: number; readonly approvalBefore: boolean; readonly last: boolean };
  /** Seconds the state machine waits before its next Task. */
  readonly wait: { readonly seconds: number };
  /** Deadline for the candidate to become steady (ISO time). */
  readonly steadyDeadline?: string;
  /** Whether the candidate task set is steady with healthy targets. */
  readonly candidateReady?: boolean;
  readonly approvalTimeoutSeconds: number;
  readonly gate?: {
    readonly outcome: 'pass' | 'wait' | 'fail';
    readonly progress: GateProgress;
    readonly trigger?: RollbackTrigger;
    readonly reason?: string;
  };
  /** The last step passed its gate: finalize next. */
  readonly complete?: boolean;
}

/** What a Catch or a failed gate hands to the rollback step. */
export interface RollbackRequest {
  readonly trigger: RollbackTrigger;
  readonly reason?: string;
  /** The caught error, as Step Functions passes it: `{ Error, Cause }`. */
  readonly error?: { readonly Error?: string; readonly Cause?: string };
}

/** A readable reason from a caught Step Functions error, whose Cause is a JSON string in AWS. */
export function reasonOf(request: RollbackRequest): string {
  if (request.reason) return request.reason;
  const cause = request.error?.Cause;
  if (!cause) return request.error?.Error ?? request.trigger;
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: string; errorType?: string };
    return `${parsed.errorType ?? request.error?.Error ?? 'Error'}: ${parsed.errorMessage ?? cause}`;
  } catch {
    return `${request.error?.Error ?? 'Error'}: ${cause}`;
  }
}
