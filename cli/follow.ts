/**
 * Following an execution the CLI started: reads the deployment's record (its timeline, step, weights and last
 * verdict are written by every step) until it ends, and shows progress on standard error, redrawn in place on a
 * terminal, else one line whenever something changes.
 */
import { SfnDeploymentLauncher, type ExecutionView } from '../lambdas/adapters/deployment-launcher';
import { DeploymentStore } from '../lambdas/adapters/deployment-store';
import { stageStatusOfExecution } from '../lambdas/domain/promotion';
import { isTerminal, type DeploymentRecord } from '../lambdas/domain/records';
import type { Target } from './backends/backend';
import type { CliIo } from './context';

/** Progress on standard error: a block redrawn in place on a terminal, else its one-line form on each change. */
export class ProgressWriter {
  private drawn = 0;
  private lastKey = '';
  private lastBlock = '';

  constructor(
    private readonly io: CliIo,
    private readonly tty: boolean,
  ) {}

  /** `key` is what, when it changes, makes a new line in a log (the line without its time). */
  show(view: { readonly line: string; readonly block: readonly string[]; readonly key: string }): void {
    if (this.tty) {
      const lines = view.block.map((l) => (l.length > 150 ? `${l.slice(0, 149)}…` : l));
      if (this.drawn && lines.join('\n') === this.lastBlock) return;
      this.io.err(`${this.drawn ? `\x1b[${this.drawn}A\x1b[J` : ''}${lines.join('\n')}\n`);
      this.drawn = lines.length;
      this.lastBlock = lines.join('\n');
      return;
    }
    if (view.key !== this.lastKey) this.io.err(`${view.line}\n`);
    this.lastKey = view.key;
  }

  /** Lines written after this stay below the progress. */
  release(): void {
    this.drawn = 0;
  }
}

const hhmmss = (iso: string | undefined) => (iso ? iso.slice(11, 19) : '--:--:--');

const bar = (pct: number) => '█'.repeat(Math.round(pct / 5)).padEnd(20, '·');

/** Where a deployment is, from its record: for the progress display. */
export function deploymentView(record: DeploymentRecord): { line: string; block: string[]; key: string } {
  const weights = record.weights ?? { stable: 100, candidate: 0 };
  const planned = record.plan && record.stepIndex !== undefined ? record.plan[record.stepIndex] : undefined;
  // Until its traffic has moved, a step is the next one.
  const step = planned
    ? `${weights.candidate < planned.weight && (record.status === 'IN_PROGRESS' || record.status === 'AWAITING_APPROVAL') ? 'before ' : ''}step ${record.stepIndex! + 1}/${record.plan!.length} (${planned.weight}%)`
    : undefined;
  const verdict = record.lastVerdict
    ? `${record.lastVerdict.status}: ${record.lastVerdict.reason}`
    : undefined;
  const last = record.timeline.at(-1);
  const waiting =
    record.status === 'AWAITING_APPROVAL'
      ? `awaiting approval: envctl approve ${record.deploymentId} (or reject)`
      : undefined;
  const parts = [
    record.status,
    ...(step ? [step] : []),
    `traffic stable ${weights.stable}% candidate ${weights.candidate}%`,
    ...(verdict ? [`verdict ${verdict}`] : []),
    ...(waiting ? [waiting] : last ? [`${last.event}: ${last.message}`] : []),
  ];
  const key = parts.join('  ');
  return {
    key,
    line: `${hhmmss(last?.at)}  ${key}`,
    block: [
      `${hhmmss(last?.at)}  ${record.deploymentId}  ${record.status}${step ? `  ${step}` : ''}`,
      `  stable    ${bar(weights.stable)} ${String(weights.stable).padStart(3)}%  ${record.stable?.image ?? ''}`,
      `  candidate ${bar(weights.candidate)} ${String(weights.candidate).padStart(3)}%  ${record.image}`,
      `  verdict   ${verdict ?? '-'}`,
      `  last      ${waiting ?? (last ? `${last.event}: ${last.message}` : '-')}`,
    ],
  };
}

export interface DeploymentEnd {
  readonly deploymentId: string;
  readonly executionArn: string;
  /** The record's terminal status; from the execution when no record ended (input the first step refused). */
  readonly outcome: string;
  readonly record?: DeploymentRecord;
  readonly execution: ExecutionView;
}

/** Reads of the record after its execution ended, waiting for the reconciler to end it. */
const GRACE_READS = 30;

/**
 * Follows a deployment until its record is terminal (a SUCCEEDED deployment's execution goes on through the
 * termination wait; that is not waited for) or its execution ended.
 */
export async function followDeployment(
  target: Target,
  deploymentId: string,
  executionArn: string,
  onRecord: (record: DeploymentRecord) => void | Promise<void>,
): Promise<DeploymentEnd> {
  const store = new DeploymentStore(target.deps.dynamodb, target.outputs.tableName);
  const launcher = new SfnDeploymentLauncher(target.deps.sfn);
  let afterEnd = 0;
  for (;;) {
    const record = await store.getDeployment(deploymentId);
    if (record) await onRecord(record);
    const execution = await launcher.describe(executionArn);
    if (record && isTerminal(record.status)) {
      return { deploymentId, executionArn, outcome: record.status, record, execution };
    }
    if (execution.status !== 'RUNNING' && (!record || ++afterEnd > GRACE_READS)) {
      const outcome = stageStatusOfExecution(execution);
      return {
        deploymentId,
        executionArn,
        outcome: outcome === 'running' ? 'FAILED' : outcome,
        ...(record ? { record } : {}),
        execution,
      };
    }
    await target.pause();
  }
}

/** Follows any execution until it is no longer running. */
export async function followExecution(target: Target, executionArn: string): Promise<ExecutionView> {
  const launcher = new SfnDeploymentLauncher(target.deps.sfn);
  for (;;) {
    const view = await launcher.describe(executionArn);
    if (view.status !== 'RUNNING') return view;
    await target.pause();
  }
}
