/** Approve or reject a deployment waiting at its approval step; the decider is recorded with the decision. */
import * as z from 'zod';
import { ValidationError } from '../domain/errors';
import { parseInput } from '../domain/input';
import type { Ports } from './ports';

export const ApprovalDecision = z.strictObject({
  deploymentId: z.string().min(1, 'must not be empty'),
  decision: z.enum(['approve', 'reject']),
  decidedBy: z.string().min(1, 'must not be empty').max(128),
  comment: z.string().max(1000).optional(),
});
export type ApprovalDecision = z.infer<typeof ApprovalDecision>;

export async function decideApproval(
  ports: Ports,
  raw: unknown,
): Promise<{ deploymentId: string; decision: string }> {
  const d = parseInput(ApprovalDecision, raw, 'decision');
  const record = await ports.store.getDeployment(d.deploymentId);
  if (!record)
    throw new ValidationError(`invalid decision: deployment ${d.deploymentId} not found`, 'deploymentId');
  if (record.status !== 'AWAITING_APPROVAL' || !record.approval?.taskToken) {
    throw new ValidationError(
      `invalid decision: deployment ${d.deploymentId} is ${record.status}, not waiting for approval`,
      'deploymentId',
    );
  }
  const at = ports.clock.now().toISOString();
  const decision = d.decision === 'approve' ? 'approved' : 'rejected';
  const updated = await ports.store.updateDeployment(
    d.deploymentId,
    {
      status: 'IN_PROGRESS',
      approval: {
        requestedAt: record.approval.requestedAt,
        decision,
        decidedBy: d.decidedBy,
        comment: d.comment,
        decidedAt: at,
      },
      updatedAt: at,
    },
    [
      {
        at,
        event: `approval-${decision}`,
        message: `${decision} by ${d.decidedBy}${d.comment ? `: ${d.comment}` : ''}`,
      },
    ],
  );
  if (!updated)
    throw new ValidationError(
      `invalid decision: deployment ${d.deploymentId} ended meanwhile`,
      'deploymentId',
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
  return { deploymentId: d.deploymentId, decision };
}
