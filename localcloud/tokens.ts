/**
 * Task tokens of `.waitForTaskToken` steps. The local runner cannot wait for a token itself, so the harness issues
 * one per such step, hands it to the step's handler in place of `$$.Task.Token`, and waits for a decision: from a
 * test (`succeed` / `fail`), or from a handler calling SendTaskSuccess / SendTaskFailure on its Step Functions
 * client, which the local cloud routes here (moto accepts those calls and does nothing with them).
 */
import { TaskDoesNotExist, TaskTimedOut } from '@aws-sdk/client-sfn';

export type TaskDecision =
  | { readonly kind: 'success'; readonly output: unknown }
  | { readonly kind: 'failure'; readonly error?: string; readonly cause?: string };

export interface PendingTaskToken {
  readonly token: string;
  readonly executionArn: string;
  readonly stateName: string;
  /** Simulated time it was issued. */
  readonly issuedAt: Date;
}

interface Entry extends PendingTaskToken {
  readonly decide: (decision: TaskDecision) => void;
}

export class TaskTokens {
  private readonly open = new Map<string, Entry>();
  private readonly closed = new Set<string>();
  private readonly waiters: {
    filter: (t: PendingTaskToken) => boolean;
    resolve: (t: PendingTaskToken) => void;
  }[] = [];
  private counter = 0;

  constructor(private readonly now: () => Date) {}

  /** Issues a token for a step; the promise settles with the decision. */
  issue(executionArn: string, stateName: string): { token: string; decision: Promise<TaskDecision> } {
    const n = ++this.counter;
    const token = Buffer.from(`localcloud:${n}:${executionArn}:${stateName}`).toString('base64url');
    let decide!: (decision: TaskDecision) => void;
    const decision = new Promise<TaskDecision>((resolve) => (decide = resolve));
    const entry: Entry = { token, executionArn, stateName, issuedAt: this.now(), decide };
    this.open.set(token, entry);
    const pending = this.describe(entry);
    for (const w of [...this.waiters]) {
      if (w.filter(pending)) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve(pending);
      }
    }
    return { token, decision };
  }

  /** The step succeeds with `output` as its result (what SendTaskSuccess's output parses to). */
  succeed(token: string, output: unknown): void {
    this.take(token).decide({ kind: 'success', output });
  }

  /** The step fails with `error` and `cause`, which its Retry and Catch match as usual. */
  fail(token: string, error?: string, cause?: string): void {
    this.take(token).decide({
      kind: 'failure',
      ...(error !== undefined ? { error } : {}),
      ...(cause !== undefined ? { cause } : {}),
    });
  }

  /** Accepted for an open token (heartbeats are not enforced locally). */
  heartbeat(token: string): void {
    this.lookup(token);
  }

  /** Closes a token without a decision (its step timed out or its execution ended); later decisions fail. */
  close(token: string): void {
    if (this.open.delete(token)) this.closed.add(token);
  }

  /** Tokens waiting for a decision, oldest first. */
  pending(): PendingTaskToken[] {
    return [...this.open.values()].map((e) => this.describe(e));
  }

  /** The first open token matching `filter`, now or when one is issued. */
  next(filter: (t: PendingTaskToken) => boolean = () => true): Promise<PendingTaskToken> {
    const found = this.pending().find(filter);
    if (found) return Promise.resolve(found);
    return new Promise((resolve) => this.waiters.push({ filter, resolve }));
  }

  private take(token: string): Entry {
    const entry = this.lookup(token);
    this.open.delete(token);
    this.closed.add(token);
    return entry;
  }

  private lookup(token: string): Entry {
    const entry = this.open.get(token);
    if (entry) return entry;
    if (this.closed.has(token)) {
      throw new TaskTimedOut({
        message: 'Task Timed Out: the task of this token is no longer waiting',
        $metadata: {},
      });
    }
    throw new TaskDoesNotExist({ message: 'Task does not exist: unknown task token', $metadata: {} });
  }

  private describe(e: Entry): PendingTaskToken {
    return { token: e.token, executionArn: e.executionArn, stateName: e.stateName, issuedAt: e.issuedAt };
  }
}
