/**
 * Deployment and rollback records and their transitions. Pure: the store adapter persists what these decide.
 */
import type { HealthStatus, RollbackTrigger, Strategy } from './config';
import type { PlanStep } from './plan';

export const TERMINAL_STATUSES = ['SUCCEEDED', 'ROLLED_BACK', 'FAILED', 'REJECTED', 'ABORTED'] as const;
export const ACTIVE_STATUSES = ['IN_PROGRESS', 'AWAITING_APPROVAL', 'ROLLING_BACK'] as const;
export type TerminalStatus = (typeof TERMINAL_STATUSES)[number];
export type ActiveStatus = (typeof ACTIVE_STATUSES)[number];
export type DeploymentStatus = TerminalStatus | ActiveStatus;

export function isTerminal(status: DeploymentStatus): status is TerminalStatus {
  return (TERMINAL_STATUSES as readonly string[]).includes(status);
}

export type Slot = 'blue' | 'green';
export const otherSlot = (slot: Slot): Slot => (slot === 'blue' ? 'green' : 'blue');

/** One version of a service: its task set in one slot. */
export interface VersionRef {
  readonly slot: Slot;
  readonly image: string;
  readonly taskDefinitionArn?: string;
  readonly taskSetArn?: string;
}

export interface Weights {
  readonly stable: number;
  readonly candidate: number;
}

export interface TimelineEntry {
  /** When it happened (the clock of whoever wrote it; simulated time in the local cloud). */
  readonly at: string;
  /** What happened, e.g. `traffic-shifted`, `health-verdict`, `rollback-started`. */
  readonly event: string;
  readonly message: string;
  readonly step?: number;
  readonly weights?: Weights;
  readonly verdict?: HealthStatus;
}

export interface ApprovalState {
  readonly requestedAt: string;
  /** The Step Functions task token; removed once decided. */
  readonly taskToken?: string;
  readonly decision?: 'approved' | 'rejected' | 'timed-out';
  readonly decidedBy?: string;
  readonly comment?: string;
  readonly decidedAt?: string;
}

export interface DeploymentRecord {
  readonly deploymentId: string;
  readonly environment: string;
  readonly service: string;
  readonly strategy: Strategy;
  readonly status: DeploymentStatus;
  readonly executionArn: string;
  readonly image: string;
  readonly reason?: string;
  readonly requestedBy?: string;
  readonly promotionId?: string;
  readonly startedAt: string;
  readonly updatedAt: string;
  readonly endedAt?: string;
  readonly stable?: VersionRef;
  readonly candidate?: VersionRef;
  readonly plan?: readonly PlanStep[];
  readonly stepIndex?: number;
  readonly weights?: Weights;
  readonly lastVerdict?: { status: HealthStatus; reason: string; at: string };
  readonly approval?: ApprovalState;
  readonly trigger?: RollbackTrigger;
  readonly error?: string;
  readonly rollbackId?: string;
  /** The lock's content while active: route, stable slot, alarms. */
  readonly active?: ActiveDeployment;
  readonly timeline: readonly TimelineEntry[];
}

export interface RollbackRecord {
  readonly rollbackId: string;
  readonly environment: string;
  readonly service: string;
  readonly deploymentId?: string;
  readonly trigger: RollbackTrigger;
  readonly reason: string;
  readonly alarmName?: string;
  readonly requestedBy?: string;
  /** RESTORED (traffic on stable, candidate removed), FAILED (could not complete), IGNORED (nothing to roll back). */
  readonly outcome: 'RESTORED' | 'FAILED' | 'IGNORED';
  /** When the triggering event happened (alarm state change time, or the request). */
  readonly eventAt: string;
  readonly startedAt: string;
  readonly trafficRestoredAt?: string;
  readonly completedAt?: string;
  readonly timeToRestoreTrafficMs?: number;
  readonly detail?: string;
}

/**
 * What the lock holds while a deployment is active: enough to restore traffic with no further read, so that
 * the rollback's first mutating call follows one read.
 */
export interface ActiveDeployment {
  readonly deploymentId: string;
  readonly executionArn: string;
  readonly environment: string;
  readonly service: string;
  readonly acquiredAt: string;
  readonly route: {
    readonly listenerArn: string;
    readonly ruleArn?: string;
    readonly targetGroups: { readonly blue: string; readonly green: string };
  };
  /** The slot that serves production traffic before and after a rollback. */
  readonly stableSlot: Slot;
  readonly alarmNames: readonly string[];
}

/** The service's steady state: which version serves, in which slot, and the lock of the active deployment. */
export interface ServiceState {
  readonly environment: string;
  readonly service: string;
  readonly stable?: VersionRef;
  /** The version that served before the last successful deployment, while its task set is kept. */
  readonly previous?: VersionRef & { readonly retireAfter: string; readonly deploymentId: string };
  readonly lock?: ActiveDeployment;
  readonly updatedAt: string;
}

/**
 * The terminal status for an execution that is over: the domain's one place for deciding how a deployment ends.
 */
export function terminalStatusFor(
  outcome: 'succeeded' | 'rolled-back' | 'rollback-failed' | 'rejected' | 'aborted',
): TerminalStatus {
  switch (outcome) {
    case 'succeeded':
      return 'SUCCEEDED';
    case 'rolled-back':
      return 'ROLLED_BACK';
    case 'rollback-failed':
      return 'FAILED';
    case 'rejected':
      return 'REJECTED';
    case 'aborted':
      return 'ABORTED';
  }
}

/** Deployment ids are the execution name: unique per state machine, readable, and known before the first step. */
export function deploymentIdFromExecutionArn(executionArn: string): string {
  const parts = executionArn.split(':');
  return parts[parts.length - 1]!;
}
