/**
 * What the handlers see of Step Functions executions. moto records executions but never runs them: an execution
 * stays RUNNING there until StopExecution makes it ABORTED, its start date is wall-clock time, and task-token
 * calls are accepted and ignored. The local runner knows better, so the handlers' Step Functions client gets a
 * middleware that:
 *
 * - overlays DescribeExecution and ListExecutions with the local run's status, simulated dates, output and error;
 * - routes SendTaskSuccess / SendTaskFailure / SendTaskHeartbeat to the harness's task tokens;
 * - answers StopExecution of an execution that already ended locally without touching moto (as AWS leaves an
 *   ended execution as it was), and tells the runner at once when one is stopped;
 * - tells the runner when a handler starts an execution of a state machine the runner knows, so that it runs.
 */
import type { SFNClient } from '@aws-sdk/client-sfn';
import type { TaskTokens } from './tokens';

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

export interface LocalExecutionState {
  readonly executionArn: string;
  readonly stateMachineArn: string;
  readonly name: string;
  readonly status: ExecutionStatus;
  readonly startDate: Date;
  readonly stopDate?: Date;
  readonly input: string;
  readonly output?: string;
  readonly error?: string;
  readonly cause?: string;
}

export class ExecutionRegistry {
  private readonly states = new Map<string, LocalExecutionState>();
  private readonly stopListeners: ((executionArn: string) => void)[] = [];
  private readonly startListeners: ((started: {
    executionArn: string;
    stateMachineArn: string;
    input: string;
  }) => void)[] = [];

  set(state: LocalExecutionState): void {
    this.states.set(state.executionArn, state);
  }

  get(executionArn: string): LocalExecutionState | undefined {
    return this.states.get(executionArn);
  }

  all(): LocalExecutionState[] {
    return [...this.states.values()];
  }

  onStop(listener: (executionArn: string) => void): void {
    this.stopListeners.push(listener);
  }

  onStart(
    listener: (started: { executionArn: string; stateMachineArn: string; input: string }) => void,
  ): void {
    this.startListeners.push(listener);
  }

  stopped(executionArn: string): void {
    for (const l of this.stopListeners) l(executionArn);
  }

  started(started: { executionArn: string; stateMachineArn: string; input: string }): void {
    for (const l of this.startListeners) l(started);
  }
}

type Json = Record<string, unknown>;

/** Applies the overlay to a client (the handlers' one; the harness keeps a plain client for moto's own view). */
export function installExecutionOverlay(
  client: SFNClient,
  registry: ExecutionRegistry,
  tokens: TaskTokens,
): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as Json;
      // Commands built by the SDK's class builder are named with their suffix: DescribeExecutionCommand.
      switch (String(context.commandName).replace(/Command$/, '')) {
        case 'SendTaskSuccess':
          tokens.succeed(String(input.taskToken), JSON.parse(String(input.output)));
          return { output: { $metadata: {} } as never, response: {} };
        case 'SendTaskFailure':
          tokens.fail(
            String(input.taskToken),
            input.error as string | undefined,
            input.cause as string | undefined,
          );
          return { output: { $metadata: {} } as never, response: {} };
        case 'SendTaskHeartbeat':
          tokens.heartbeat(String(input.taskToken));
          return { output: { $metadata: {} } as never, response: {} };
        case 'StopExecution': {
          const local = registry.get(String(input.executionArn));
          if (local && local.status !== 'RUNNING') {
            return { output: { $metadata: {}, stopDate: local.stopDate } as never, response: {} };
          }
          const result = await next(args);
          registry.stopped(String(input.executionArn));
          return result;
        }
        case 'StartExecution': {
          const result = await next(args);
          const out = result.output as unknown as Json;
          registry.started({
            executionArn: String(out.executionArn),
            stateMachineArn: String(input.stateMachineArn),
            input: String(input.input ?? '{}'),
          });
          return result;
        }
        case 'DescribeExecution': {
          const result = await next(args);
          const local = registry.get(String(input.executionArn));
          if (local) Object.assign(result.output as unknown as Json, overlay(local));
          return result;
        }
        case 'ListExecutions': {
          const { statusFilter, ...rest } = input;
          const result = await next({ ...args, input: rest });
          const out = result.output as { executions?: Json[] };
          out.executions = (out.executions ?? [])
            .map((e) => {
              const local = registry.get(String(e.executionArn));
              return local
                ? {
                    ...e,
                    status: local.status,
                    startDate: local.startDate,
                    ...(local.stopDate ? { stopDate: local.stopDate } : {}),
                  }
                : e;
            })
            .filter((e) => statusFilter === undefined || e.status === statusFilter);
          return result;
        }
        default:
          return next(args);
      }
    },
    { step: 'initialize', name: 'localcloudExecutionOverlay' },
  );
}

function overlay(local: LocalExecutionState): Json {
  return {
    status: local.status,
    startDate: local.startDate,
    ...(local.stopDate ? { stopDate: local.stopDate } : {}),
    ...(local.output !== undefined ? { output: local.output } : {}),
    ...(local.error !== undefined ? { error: local.error } : {}),
    ...(local.cause !== undefined ? { cause: local.cause } : {}),
  };
}
