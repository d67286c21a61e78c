/**
 * The promotion pipeline's steps: one release through environments in order. Each environment's own deployment
 * state machine deploys it (started here, followed with DescribeExecution); a person approves before a stage
 * that asks for it (production); the first deployment that does not succeed stops the promotion, and the
 * environments after it are never touched. One record links every deployment.
 */
import * as z from 'zod';
import { DeploymentStore } from '../adapters/deployment-store';
import { SfnDeploymentLauncher, type DeploymentLauncher } from '../adapters/deployment-launcher';
import { SfnExecutionControl, type ExecutionControl } from '../adapters/executions';
import { SnsNotifier, type Notifier } from '../adapters/notifier';
import type { Strategy } from '../domain/config';
import { RecordNotFoundError, ValidationError } from '../domain/errors';
import { parseInput } from '../domain/input';
import { stateMachineName } from '../domain/naming';
import {
  PromotionInput,
  stageDeploymentId,
  stageStatusOfExecution,
  type PromotionRecord,
  type StageRecord,
  type StageStatus,
} from '../domain/promotion';
import type { TimelineEntry } from '../domain/records';
import type { Clock } from '../runtime/clients';
import type { Deps } from '../runtime/deps';

/** Simulated or real seconds between two looks at a stage's deployment. */
export const STAGE_POLL_SECONDS = 30;

export interface PromotionPorts {
  readonly store: DeploymentStore;
  readonly launcher: DeploymentLauncher;
  readonly executions: ExecutionControl;
  readonly notifier: Notifier;
  readonly clock: Clock;
}

export function promotionPortsFrom(deps: Deps): PromotionPorts {
  let store: DeploymentStore | undefined;
  let launcher: DeploymentLauncher | undefined;
  let executions: ExecutionControl | undefined;
  let notifier: Notifier | undefined;
  return {
    get store() {
      return (store ??= new DeploymentStore(deps.dynamodb, deps.tableName));
    },
    get launcher() {
      return (launcher ??= new SfnDeploymentLauncher(deps.sfn));
    },
    get executions() {
      return (executions ??= new SfnExecutionControl(deps.sfn));
    },
    get notifier() {
      return (notifier ??= new SnsNotifier(deps.sns, deps.notificationTopicArn, deps.alertTopicArn));
    },
    clock: deps.clock,
  };
}

/** What the promotion state machine carries from step to step in `$.promotion`, and what its Choices read. */
export interface PromotionContext {
  readonly promotionId: string;
  readonly executionArn: string;
  readonly service: string;
  /** The project's name, which every state machine's name starts with. */
  readonly project: string;
  /** `arn:<partition>:states:<region>:<account>:stateMachine:`: the environments' deployments run here. */
  readonly stateMachineArnPrefix: string;
  readonly stageIndex: number;
  readonly stageCount: number;
  readonly stage: {
    readonly environment: string;
    readonly strategy: Strategy;
    readonly approval: boolean;
    readonly deploymentId?: string;
    readonly executionArn?: string;
  };
  readonly approvalTimeoutSeconds: number;
  readonly wait: { readonly seconds: number };
  /** After a look at the deployment: still running, go on to the next stage, all done, or stopped. */
  readonly outcome?: 'running' | 'next' | 'done' | 'stopped';
}

export interface BeginRequest {
  readonly input: unknown;
  readonly project: string;
  readonly execution: {
    readonly arn: string;
    readonly name: string;
    readonly startTime?: string;
    readonly stateMachineArn: string;
  };
}

/** Checks the input and creates the promotion's record; bad input ends it REJECTED with nothing started. */
export async function beginPromotion(ports: PromotionPorts, req: BeginRequest): Promise<PromotionContext> {
  const now = ports.clock.now().toISOString();
  const promotionId = req.execution.name;
  let input: PromotionInput;
  try {
    input = parseInput(PromotionInput, req.input);
  } catch (err) {
    if (err instanceof ValidationError) {
      const raw = (req.input ?? {}) as Record<string, unknown>;
      await ports.store.createPromotion({
        promotionId,
        executionArn: req.execution.arn,
        service: typeof raw.service === 'string' ? raw.service : 'unknown',
        image: typeof raw.image === 'string' ? raw.image : '',
        status: 'REJECTED',
        stages: [],
        stageIndex: 0,
        startedAt: req.execution.startTime ?? now,
        updatedAt: now,
        endedAt: now,
        error: err.message,
        timeline: [{ at: now, event: 'rejected', message: err.message }],
      });
    }
    throw err;
  }
  const record = await ports.store.createPromotion({
    promotionId,
    executionArn: req.execution.arn,
    service: input.service,
    image: input.image,
    reason: input.reason,
    requestedBy: input.requestedBy,
    status: 'IN_PROGRESS',
    stages: input.stages.map((s) => ({ ...s, status: 'PENDING' as const })),
    stageIndex: 0,
    startedAt: req.execution.startTime ?? now,
    updatedAt: now,
    timeline: [
      {
        at: now,
        event: 'promotion-started',
        message: `${input.image} through ${input.stages.map((s) => s.environment).join(' → ')}`,
      },
    ],
  });
  const arnPrefix = req.execution.stateMachineArn.split(':').slice(0, 6).join(':');
  return {
    promotionId,
    executionArn: req.execution.arn,
    service: record.service,
    project: req.project,
    stateMachineArnPrefix: `${arnPrefix}:`,
    stageIndex: 0,
    stageCount: record.stages.length,
    stage: stageOf(record.stages[0]!),
    approvalTimeoutSeconds: input.approvalTimeoutSeconds,
    wait: { seconds: 0 },
  };
}

/** Keeps the approval task token on the record and asks for a decision before the stage's deployment. */
export async function requestPromotionApproval(
  ports: PromotionPorts,
  ctx: PromotionContext,
  taskToken: string,
): Promise<void> {
  const record = await requirePromotion(ports, ctx.promotionId);
  const at = ports.clock.now().toISOString();
  await ports.store.updatePromotion(
    ctx.promotionId,
    {
      status: 'AWAITING_APPROVAL',
      approval: { requestedAt: at, taskToken, environment: ctx.stage.environment },
      stages: withStage(record, ctx.stageIndex, { status: 'AWAITING_APPROVAL' }),
      updatedAt: at,
    },
    [
      {
        at,
        event: 'approval-requested',
        message: `approval needed before ${ctx.stage.environment} (times out after ${ctx.approvalTimeoutSeconds} s)`,
        step: ctx.stageIndex,
      },
    ],
  );
  await ports.notifier.notify({
    event: 'awaiting-approval',
    environment: ctx.stage.environment,
    service: ctx.service,
    promotionId: ctx.promotionId,
    message: `${record.image} waits for approval before ${ctx.stage.environment}: envctl approve ${ctx.promotionId}`,
    executionArn: ctx.executionArn,
    candidateImage: record.image,
  });
}

/** Starts the stage's deployment in its environment's state machine for the strategy. */
export async function startStage(ports: PromotionPorts, ctx: PromotionContext): Promise<PromotionContext> {
  const record = await requirePromotion(ports, ctx.promotionId);
  const current = record.stages[ctx.stageIndex]!;
  const at = ports.clock.now().toISOString();
  const deploymentId =
    current.deploymentId ?? stageDeploymentId(ctx.promotionId, current.environment, ctx.service, at);
  const stateMachineArn = `${ctx.stateMachineArnPrefix}${stateMachineName(ctx.project, current.environment, current.strategy)}`;
  const executionArn = await ports.launcher.start(stateMachineArn, deploymentId, {
    environment: current.environment,
    service: ctx.service,
    image: record.image,
    ...(record.reason ? { reason: record.reason } : {}),
    ...(record.requestedBy ? { requestedBy: record.requestedBy } : {}),
    promotionId: ctx.promotionId,
  });
  await ports.store.updatePromotion(
    ctx.promotionId,
    {
      status: 'IN_PROGRESS',
      stageIndex: ctx.stageIndex,
      stages: withStage(record, ctx.stageIndex, {
        status: 'DEPLOYING',
        deploymentId,
        executionArn,
        startedAt: current.startedAt ?? at,
      }),
      updatedAt: at,
    },
    [
      {
        at,
        event: 'stage-started',
        message: `${current.strategy} deployment ${deploymentId} started in ${current.environment}`,
        step: ctx.stageIndex,
      },
    ],
  );
  return {
    ...ctx,
    stage: { ...ctx.stage, deploymentId, executionArn },
    wait: { seconds: STAGE_POLL_SECONDS },
    outcome: 'running',
  };
}

/**
 * Looks at the stage's deployment. Running: look again later. Succeeded: the next stage, or the promotion
 * SUCCEEDED after the last. Anything else: the promotion STOPPED there.
 */
export async function checkStage(ports: PromotionPorts, ctx: PromotionContext): Promise<PromotionContext> {
  const view = await ports.launcher.describe(ctx.stage.executionArn!);
  const status = stageStatusOfExecution(view);
  if (status === 'running') return { ...ctx, outcome: 'running', wait: { seconds: STAGE_POLL_SECONDS } };
  const record = await requirePromotion(ports, ctx.promotionId);
  const at = ports.clock.now().toISOString();
  const env = ctx.stage.environment;
  if (status !== 'SUCCEEDED') {
    const detail = `deployment ${ctx.stage.deploymentId} in ${env} ended ${status}${view.cause ? `: ${readableCause(view.cause)}` : ''}`;
    await stop(ports, ctx, record, status, detail);
    return { ...ctx, outcome: 'stopped' };
  }
  const stages = withStage(record, ctx.stageIndex, { status: 'SUCCEEDED', endedAt: at });
  const entry: TimelineEntry = {
    at,
    event: 'stage-succeeded',
    message: `${record.image} deployed in ${env} (${ctx.stage.deploymentId})`,
    step: ctx.stageIndex,
  };
  const next = ctx.stageIndex + 1;
  if (next >= ctx.stageCount) {
    await ports.store.updatePromotion(
      ctx.promotionId,
      { status: 'SUCCEEDED', stages, updatedAt: at, endedAt: at },
      [entry, { at, event: 'promoted', message: `${record.image} promoted through every environment` }],
    );
    await ports.notifier.notify({
      event: 'succeeded',
      environment: env,
      service: ctx.service,
      promotionId: ctx.promotionId,
      deploymentId: ctx.stage.deploymentId,
      message: `${record.image} promoted through ${record.stages.map((s) => s.environment).join(', ')}`,
      executionArn: ctx.executionArn,
      candidateImage: record.image,
    });
    return { ...ctx, outcome: 'done' };
  }
  await ports.store.updatePromotion(ctx.promotionId, { stages, stageIndex: next, updatedAt: at }, [entry]);
  return {
    ...ctx,
    stageIndex: next,
    stage: stageOf(record.stages[next]!),
    wait: { seconds: 0 },
    outcome: 'next',
  };
}

/** What a Catch of the promotion state machine hands to the stop step. */
export interface StopRequest {
  readonly reason: 'rejected' | 'approval-timeout' | 'failure';
  readonly error?: { readonly Error?: string; readonly Cause?: string };
}

/** Stops the promotion at its current stage after a rejection, an approval timeout or a step's failure. */
export async function stopPromotion(
  ports: PromotionPorts,
  ctx: PromotionContext,
  req: StopRequest,
): Promise<{ stopped: boolean }> {
  const record = await requirePromotion(ports, ctx.promotionId);
  const env = ctx.stage.environment;
  const cause = req.error?.Cause ? readableCause(req.error.Cause) : (req.error?.Error ?? 'unknown error');
  const [status, detail]: [StageStatus, string] =
    req.reason === 'rejected'
      ? ['NOT_APPROVED', `not approved for ${env}: ${cause}`]
      : req.reason === 'approval-timeout'
        ? ['NOT_APPROVED', `no approval decision for ${env} within ${ctx.approvalTimeoutSeconds} s`]
        : ['FAILED', `the promotion could not go on in ${env}: ${cause}`];
  await stop(ports, ctx, record, status, detail);
  return { stopped: true };
}

async function stop(
  ports: PromotionPorts,
  ctx: PromotionContext,
  record: PromotionRecord,
  status: StageStatus,
  detail: string,
): Promise<void> {
  const at = ports.clock.now().toISOString();
  const stages = record.stages.map((s, i): StageRecord => {
    if (i === ctx.stageIndex) return { ...s, status, endedAt: at, detail };
    if (i > ctx.stageIndex) return { ...s, status: 'SKIPPED' };
    return s;
  });
  const skipped = record.stages.slice(ctx.stageIndex + 1).map((s) => s.environment);
  const updated = await ports.store.updatePromotion(
    ctx.promotionId,
    { status: 'STOPPED', stages, updatedAt: at, endedAt: at, error: detail },
    [
      {
        at,
        event: 'promotion-stopped',
        message: `${detail}${skipped.length ? `; not promoted to ${skipped.join(', ')}` : ''}`,
        step: ctx.stageIndex,
      },
    ],
  );
  if (!updated) return; // already ended: stopped once
  await ports.notifier.notify({
    event: 'promotion-stopped',
    environment: ctx.stage.environment,
    service: ctx.service,
    promotionId: ctx.promotionId,
    ...(ctx.stage.deploymentId ? { deploymentId: ctx.stage.deploymentId } : {}),
    message: `promotion of ${record.image} stopped at ${ctx.stage.environment}: ${detail}${skipped.length ? `; not promoted to ${skipped.join(', ')}` : ''}`,
    executionArn: ctx.executionArn,
    candidateImage: record.image,
  });
}

export const PromotionDecision = z.strictObject({
  promotionId: z.string().min(1, 'must not be empty'),
  decision: z.enum(['approve', 'reject']),
  decidedBy: z.string().min(1, 'must not be empty').max(128),
  comment: z.string().max(1000).optional(),
});
export type PromotionDecision = z.infer<typeof PromotionDecision>;

/** Approves or rejects a promotion waiting before a stage; the decider is recorded with the decision. */
export async function decidePromotion(
  ports: Pick<PromotionPorts, 'store' | 'executions' | 'clock'>,
  raw: unknown,
): Promise<{ promotionId: string; decision: 'approved' | 'rejected'; environment: string }> {
  const d = parseInput(PromotionDecision, raw, 'decision');
  const record = await ports.store.getPromotion(d.promotionId);
  if (!record)
    throw new ValidationError(`invalid decision: promotion ${d.promotionId} not found`, 'promotionId');
  if (record.status !== 'AWAITING_APPROVAL' || !record.approval?.taskToken) {
    throw new ValidationError(
      `invalid decision: promotion ${d.promotionId} is ${record.status}, not waiting for approval`,
      'promotionId',
    );
  }
  const at = ports.clock.now().toISOString();
  const decision = d.decision === 'approve' ? 'approved' : 'rejected';
  const environment = record.approval.environment;
  const updated = await ports.store.updatePromotion(
    d.promotionId,
    {
      status: 'IN_PROGRESS',
      approval: {
        environment,
        requestedAt: record.approval.requestedAt,
        decision,
        decidedBy: d.decidedBy,
        ...(d.comment ? { comment: d.comment } : {}),
        decidedAt: at,
      },
      updatedAt: at,
    },
    [
      {
        at,
        event: `approval-${decision}`,
        message: `${environment} ${decision} by ${d.decidedBy}${d.comment ? `: ${d.comment}` : ''}`,
      },
    ],
    { whenStatus: 'AWAITING_APPROVAL' },
  );
  if (!updated)
    throw new ValidationError(
      `invalid decision: promotion ${d.promotionId} changed meanwhile`,
      'promotionId',
    );
  if (d.decision === 'approve') {
    await ports.executions.approve(record.approval.taskToken, { approved: true, decidedBy: d.decidedBy });
  } else {
    await ports.executions.reject(
      record.approval.taskToken,
      'ApprovalRejected',
      `rejected by ${d.decidedBy}${d.comment ? `: ${d.comment}` : ''}`,
    );
  }
  return { promotionId: d.promotionId, decision, environment };
}

function stageOf(stage: StageRecord): PromotionContext['stage'] {
  return { environment: stage.environment, strategy: stage.strategy, approval: stage.approval };
}

function withStage(record: PromotionRecord, index: number, patch: Partial<StageRecord>): StageRecord[] {
  return record.stages.map((s, i) => (i === index ? { ...s, ...patch } : s));
}

async function requirePromotion(ports: PromotionPorts, id: string): Promise<PromotionRecord> {
  const record = await ports.store.getPromotion(id);
  if (!record) throw new RecordNotFoundError(`promotion ${id}`);
  return record;
}

/** A Step Functions Cause as a person reads it: Lambda's JSON error, or the text itself. */
function readableCause(cause: string): string {
  try {
    const parsed = JSON.parse(cause) as { errorType?: string; errorMessage?: string };
    if (parsed.errorMessage) return `${parsed.errorType ?? 'Error'}: ${parsed.errorMessage}`;
  } catch {
    // not JSON
  }
  return cause;
}
