/**
 * A promotion: one release taken through environments in order, each environment deploying it with its own
 * deployment state machine and strategy, a person's approval before production, and a stop at the first
 * deployment that does not succeed. Pure: the store persists what these decide.
 */
import * as z from 'zod';
import { Strategy } from './config';
import { ExecutionInput } from './input';
import type { ApprovalState, TimelineEntry } from './records';

export const PromotionStage = z.strictObject({
  /** The environment, by its name in the config. */
  environment: z.string().min(1, 'must not be empty'),
  /** Which of the environment's deployment state machines deploys the release. */
  strategy: Strategy,
  /** Whether a person must approve before this environment's deployment starts. */
  approval: z.boolean().default(false),
});
export type PromotionStage = z.infer<typeof PromotionStage>;

/** What a promotion execution is started with, by the CLI or from the console. */
export const PromotionInput = z.strictObject({
  service: ExecutionInput.shape.service,
  image: ExecutionInput.shape.image,
  reason: ExecutionInput.shape.reason,
  requestedBy: ExecutionInput.shape.requestedBy,
  /** The environments in order; the promotion goes to the next only when the previous deployment SUCCEEDED. */
  stages: z
    .array(PromotionStage)
    .min(1, 'must name at least one environment')
    .max(10, 'must name at most 10 environments')
    .refine((stages) => new Set(stages.map((s) => s.environment)).size === stages.length, {
      message: 'must not name an environment twice',
    }),
  /** No decision within this time stops the promotion. */
  approvalTimeoutSeconds: z
    .number()
    .int('must be a whole number of seconds')
    .min(60, 'must be at least 60')
    .max(604_800, 'must be at most 604800')
    .default(3600),
});
export type PromotionInput = z.infer<typeof PromotionInput>;

export const PROMOTION_TERMINAL_STATUSES = ['SUCCEEDED', 'STOPPED', 'REJECTED'] as const;
export type PromotionStatus =
  'IN_PROGRESS' | 'AWAITING_APPROVAL' | (typeof PROMOTION_TERMINAL_STATUSES)[number];

export function isPromotionTerminal(status: PromotionStatus): boolean {
  return (PROMOTION_TERMINAL_STATUSES as readonly string[]).includes(status);
}

/**
 * Where one environment of a promotion stands. A deployment's terminal status (and TIMED_OUT) once it ended;
 * NOT_APPROVED when a person rejected it or nobody decided in time; SKIPPED when an earlier stage stopped the
 * promotion.
 */
export type StageStatus =
  | 'PENDING'
  | 'AWAITING_APPROVAL'
  | 'DEPLOYING'
  | 'SUCCEEDED'
  | 'ROLLED_BACK'
  | 'FAILED'
  | 'REJECTED'
  | 'ABORTED'
  | 'TIMED_OUT'
  | 'NOT_APPROVED'
  | 'SKIPPED';

export interface StageRecord extends PromotionStage {
  readonly status: StageStatus;
  /** The deployment's id (its execution's name) and execution, once started. */
  readonly deploymentId?: string;
  readonly executionArn?: string;
  readonly startedAt?: string;
  readonly endedAt?: string;
  /** Why a stage that did not succeed ended so. */
  readonly detail?: string;
}

export interface PromotionRecord {
  readonly promotionId: string;
  readonly executionArn: string;
  readonly service: string;
  readonly image: string;
  readonly reason?: string;
  readonly requestedBy?: string;
  readonly status: PromotionStatus;
  readonly stages: readonly StageRecord[];
  /** The stage being worked on (0-based). */
  readonly stageIndex: number;
  /** The pending or last approval, for the stage it is about. */
  readonly approval?: ApprovalState & { readonly environment: string };
  readonly startedAt: string;
  readonly updatedAt: string;
  readonly endedAt?: string;
  /** Why the promotion stopped or was rejected. */
  readonly error?: string;
  readonly timeline: readonly TimelineEntry[];
}

/** How a deployment execution, as DescribeExecution reports it, leaves its stage: or 'running'. */
export function stageStatusOfExecution(execution: {
  readonly status?: string;
  readonly error?: string;
}): StageStatus | 'running' {
  switch (execution.status) {
    case 'RUNNING':
    case 'PENDING_REDRIVE':
    case undefined:
      return 'running';
    case 'SUCCEEDED':
      return 'SUCCEEDED';
    case 'TIMED_OUT':
      return 'TIMED_OUT';
    default:
      // FAILED or ABORTED: the deployment state machine's Fail states, and the rollback's StopExecution, name why.
      switch (execution.error) {
        case 'RolledBack':
          return 'ROLLED_BACK';
        case 'DeploymentRejected':
        case 'ValidationFailed':
          return 'REJECTED';
        case 'RollbackFailed':
          return 'FAILED';
        // The deployment SUCCEEDED; only removing the old task set failed.
        case 'RetireFailed':
          return 'SUCCEEDED';
        default:
          return execution.status === 'ABORTED' ? 'ABORTED' : 'FAILED';
      }
  }
}

/** A deployment id for a stage: readable, unique per promotion and environment, within Step Functions' 80. */
export function stageDeploymentId(
  promotionId: string,
  environment: string,
  service: string,
  at: string,
): string {
  const stamp = at.replace(/[-:]/g, '').replace(/\.\d+/, '').toLowerCase(); // 20250314t101500z
  let hash = 0;
  for (const c of `${promotionId}/${environment}`) hash = (hash * 31 + c.charCodeAt(0)) >>> 0;
  const suffix = `${stamp}-p${hash.toString(16).padStart(8, '0').slice(0, 6)}`;
  return `${`${environment}-${service}`.slice(0, 80 - suffix.length - 1)}-${suffix}`.replace(
    /[^A-Za-z0-9_-]/g,
    '-',
  );
}
