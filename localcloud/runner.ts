/**
 * Runs executions: a real execution in moto (StartExecution gives the ARN, StopExecution there aborts it), its
 * definition run in aws-local-stepfunctions with each Task bound to the real handler, in simulated time.
 *
 * - A Task invoking `${XFunctionArn}` (or a function of the template) runs the handler registered under its kebab
 *   name. A handler's error reaches Retry and Catch as Lambda's would: Error is the error's `name`, Cause the JSON
 *   `{"errorType","errorMessage","trace"}`. Retries happen at once and are counted.
 * - Wait states sleep on the simulated clock; the execution's TimeoutSeconds and a token step's TimeoutSeconds are
 *   simulated time too (TIMED_OUT; States.Timeout).
 * - After every Task, at every tick and whenever a handler calls StopExecution, the run asks moto whether the
 *   execution was stopped; if it was, the run ends ABORTED.
 * - A run that ends publishes "Step Functions Execution Status Change" on the local bus, so that rules whose
 *   patterns match it (the reconciler's) receive it.
 * - Several runs can share one cloud and one clock.
 */
import {
  DescribeExecutionCommand,
  CreateStateMachineCommand,
  StartExecutionCommand,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import { StateMachine, type RunOptions } from 'aws-local-stepfunctions';
import {
  definitionText,
  handlerOfSubstitution,
  substitute,
  substitutionNames,
  type StateMachineKind,
  STATE_MACHINE_KINDS,
} from '../statemachines/index';
import type { Actor, SimulatedClock } from './clock';
import type { LocalEventBus, PublishResult } from './events';
import { ExecutionRegistry, type ExecutionStatus } from './executions';
import {
  localizeDefinition,
  TIMEOUT_PARAMETER,
  waitSeconds,
  withToken,
  type LocalDefinition,
  type TaskBinding,
} from './definition';
import { jsonCopy, type HandlerRegistry } from './handlers';
import type { TaskTokens } from './tokens';

export type TerminalStatus = Exclude<ExecutionStatus, 'RUNNING'>;

export interface HistoryEvent {
  /** The runner's event type (StateEntered, StateExited, StateFailed, StateRetried, StateCaught, …) or ours. */
  readonly type: string;
  /** Simulated time. */
  readonly at: string;
  readonly state?: string;
  readonly stateType?: string;
  readonly input?: unknown;
  readonly output?: unknown;
  readonly error?: string;
  readonly cause?: unknown;
  /** For a Task bound to a handler: its name, and what it returned. */
  readonly handler?: string;
  readonly result?: unknown;
  /** For StateRetried: which retry of the retrier this is (1-based). */
  readonly attempt?: number;
  /** For a Wait: the simulated seconds it waited. */
  readonly seconds?: number;
  /** For a token step: the token issued. */
  readonly token?: string;
}

export interface RunResult {
  readonly status: TerminalStatus;
  readonly output?: unknown;
  readonly error?: string;
  readonly cause?: string;
  readonly executionArn: string;
  readonly stateMachineArn: string;
  readonly name: string;
  readonly history: readonly HistoryEvent[];
  /** Retries across all states. */
  readonly retries: number;
  readonly startedAt: Date;
  readonly stoppedAt: Date;
  /** Wall-clock milliseconds the run took. */
  readonly wallMs: number;
  /** What the status-change event reached, if one was published. */
  readonly statusEvent?: PublishResult;
}

export interface RunRequest {
  /** A state machine of this cloud: its name, its ARN, or a kind (`canary`, …) from `statemachines/`. */
  readonly stateMachine: string;
  readonly input: unknown;
  /** @default a generated name */
  readonly name?: string;
}

export interface RunHandle {
  readonly executionArn: string;
  readonly name: string;
  readonly result: Promise<RunResult>;
}

export interface LocalStateMachine {
  readonly name: string;
  readonly arn: string;
  /** Definition text with every substitution filled in. */
  readonly definition: string;
}

export interface RegisterOptions {
  readonly name: string;
  /** ASL as text or object; `${XFunctionArn}` substitutions are bound to the handler `x`. */
  readonly definition: string | object;
  /** Values for other substitutions. */
  readonly substitutions?: Readonly<Record<string, string>>;
}

export interface RunnerOptions {
  readonly sfn: SFNClient;
  readonly clock: SimulatedClock;
  readonly handlers: HandlerRegistry;
  readonly events: LocalEventBus;
  readonly tokens: TaskTokens;
  readonly registry: ExecutionRegistry;
  readonly region: string;
  readonly accountId: string;
  /** Kebab handler name of a function, by ARN or name; undefined when unknown. */
  readonly handlerOfFunction: (functionNameOrArn: string) => string | undefined;
  /** The state machines the template created in moto. */
  readonly stateMachines: readonly LocalStateMachine[];
  /** The name a kind from `statemachines/` gets when the template has no such state machine. */
  readonly nameOfKind: (kind: StateMachineKind) => string;
  /** TimeoutSeconds for a kind from `statemachines/`. */
  readonly timeoutOfKind: (kind: StateMachineKind) => number;
  /** Terminal statuses that publish a status-change event. @default all four */
  readonly statusEvents?: readonly TerminalStatus[];
  /** IAM role given to state machines the runner creates. */
  readonly roleArn?: string;
}

/** Prefix of the function names that `${XFunctionArn}` substitutions get when the template has no such function. */
export const LOCAL_FUNCTION_PREFIX = 'localcloud-';

export class ExecutionStoppedError extends Error {
  override readonly name = 'ExecutionStoppedError';
}

export class Runner {
  private readonly machines = new Map<string, LocalStateMachine>();
  private readonly prepared = new Map<string, LocalDefinition>();
  private readonly active = new Map<
    string,
    { check: () => Promise<void>; abort: () => void; result: Promise<RunResult> }
  >();
  private closing = false;
  private readonly finished = new Map<string, Promise<RunResult>>();
  private counter = 0;

  constructor(private readonly options: RunnerOptions) {
    for (const sm of options.stateMachines) this.machines.set(sm.arn, sm);
    options.registry.onStop((arn) => void this.active.get(arn)?.check());
    options.registry.onStart(({ executionArn, stateMachineArn, input }) => {
      const sm = this.machines.get(stateMachineArn);
      if (sm && !this.active.has(executionArn) && !this.finished.has(executionArn)) {
        void this.launch(sm, executionArn, executionArn.split(':').at(-1)!, JSON.parse(input));
      }
    });
  }

  /** State machines the runner knows (the template's and those registered or created since). */
  get stateMachines(): readonly LocalStateMachine[] {
    return [...this.machines.values()];
  }

  /** Creates a state machine in moto from a definition (tests, or definitions the template does not hold). */
  async register(options: RegisterOptions): Promise<LocalStateMachine> {
    const text =
      typeof options.definition === 'string' ? options.definition : JSON.stringify(options.definition);
    const values: Record<string, string> = { ...options.substitutions };
    for (const name of substitutionNames(text)) {
      const handler = handlerOfSubstitution(name);
      if (values[name] === undefined && handler) values[name] = this.functionArnOf(handler);
    }
    const definition = substitute(text, values);
    localizeDefinition(definition); // fail now on what the runner cannot run
    const out = await this.options.sfn.send(
      new CreateStateMachineCommand({
        name: options.name,
        definition,
        roleArn: this.options.roleArn ?? `arn:aws:iam::${this.options.accountId}:role/localcloud-states`,
      }),
    );
    const sm = { name: options.name, arn: out.stateMachineArn!, definition };
    this.machines.set(sm.arn, sm);
    return sm;
  }

  /** The ARN `${XFunctionArn}` gets for handler `x` when no function of the template runs it. */
  functionArnOf(handler: string): string {
    return `arn:aws:lambda:${this.options.region}:${this.options.accountId}:function:${LOCAL_FUNCTION_PREFIX}${handler}`;
  }

  /** Starts an execution; resolves once moto has it (the ARN is known) with a handle on its result. */
  async start(request: RunRequest): Promise<RunHandle> {
    const sm = await this.resolve(request.stateMachine);
    const name = request.name ?? `local-${++this.counter}-${this.options.clock.now().getTime()}`;
    const out = await this.options.sfn.send(
      new StartExecutionCommand({
        stateMachineArn: sm.arn,
        name,
        input: JSON.stringify(request.input ?? {}),
      }),
    );
    const executionArn = out.executionArn!;
    const result = this.launch(sm, executionArn, name, request.input ?? {});
    return { executionArn, name, result };
  }

  /** Starts an execution and waits for its end. */
  async run(request: RunRequest): Promise<RunResult> {
    return (await this.start(request)).result;
  }

  /** The result of an execution this runner ran or runs (also one a handler started). */
  result(executionArn: string): Promise<RunResult> | undefined {
    return this.active.get(executionArn)?.result ?? this.finished.get(executionArn);
  }

  /**
   * Ends every run in progress as ABORTED (no status events) and waits for them; Tasks already calling a handler
   * finish first. Used when the cloud stops.
   */
  async shutdown(): Promise<void> {
    this.closing = true;
    for (const run of this.active.values()) run.abort();
    await this.idle();
  }

  /** Waits for every run in progress to end. */
  async idle(): Promise<void> {
    while (this.active.size > 0) await Promise.allSettled([...this.active.values()].map((a) => a.result));
  }

  private async resolve(ref: string): Promise<LocalStateMachine> {
    const known = this.machines.get(ref) ?? [...this.machines.values()].find((m) => m.name === ref);
    if (known) return known;
    if ((STATE_MACHINE_KINDS as readonly string[]).includes(ref)) {
      const kind = ref as StateMachineKind;
      const byName = [...this.machines.values()].find((m) => m.name === this.options.nameOfKind(kind));
      if (byName) return byName;
      return this.register({
        name: this.options.nameOfKind(kind),
        definition: definitionText(kind, { timeoutSeconds: this.options.timeoutOfKind(kind) }),
      });
    }
    throw new Error(
      `no state machine "${ref}" in the local cloud (known: ${[...this.machines.values()].map((m) => m.name).join(', ')})`,
    );
  }

  private localized(sm: LocalStateMachine): LocalDefinition {
    let prepared = this.prepared.get(sm.arn);
    if (!prepared) {
      prepared = localizeDefinition(sm.definition);
      this.prepared.set(sm.arn, prepared);
    }
    return prepared;
  }

  private launch(
    sm: LocalStateMachine,
    executionArn: string,
    name: string,
    input: unknown,
  ): Promise<RunResult> {
    // Join the clock before anything is awaited, so that time cannot move past the start of this run.
    const actor = this.options.clock.join(name);
    let check: () => Promise<void> = async () => undefined;
    let abort: () => void = () => undefined;
    const result = this.execute(
      sm,
      executionArn,
      name,
      input,
      actor,
      (c, a) => ((check = c), (abort = a)),
    ).finally(() => {
      actor.leave();
      this.active.delete(executionArn);
      this.finished.set(executionArn, result);
    });
    this.active.set(executionArn, { check: () => check(), abort: () => abort(), result });
    return result;
  }

  private async execute(
    sm: LocalStateMachine,
    executionArn: string,
    name: string,
    input: unknown,
    actor: Actor,
    expose: (check: () => Promise<void>, abort: () => void) => void,
  ): Promise<RunResult> {
    const { clock, registry, tokens, handlers } = this.options;
    const wallStart = performance.now();
    const startedAt = clock.now();
    const local = this.localized(sm);
    const inputText = JSON.stringify(input);
    registry.set({
      executionArn,
      stateMachineArn: sm.arn,
      name,
      status: 'RUNNING',
      startDate: startedAt,
      input: inputText,
    });

    const aborter = new AbortController();
    let ending: { status: 'ABORTED' | 'TIMED_OUT'; error?: string; cause?: string } | undefined;
    let machine: ReturnType<StateMachine['run']> | undefined;
    const end = (how: NonNullable<typeof ending>) => {
      if (ending) return;
      ending = how;
      aborter.abort();
      machine?.abort();
    };
    const checkStopped = async () => {
      if (ending) return;
      const out = await this.options.sfn.send(new DescribeExecutionCommand({ executionArn }));
      if (out.status === 'ABORTED') end({ status: 'ABORTED' });
    };
    expose(checkStopped, () =>
      end({ status: 'ABORTED', error: 'LocalCloud.Shutdown', cause: 'the local cloud stopped' }),
    );
    const removeTicker = clock.onTick(() => checkStopped(), { order: 1000 });
    const cancelDeadline =
      local.timeoutSeconds !== undefined
        ? clock.schedule(new Date(startedAt.getTime() + local.timeoutSeconds * 1000), () =>
            end({
              status: 'TIMED_OUT',
              error: 'States.Timeout',
              cause: `The execution ran longer than its TimeoutSeconds (${local.timeoutSeconds})`,
            }),
          )
        : () => undefined;

    // Details the overrides add to the runner's own events, by state name, consumed in order.
    const details = new Map<string, Partial<HistoryEvent>[]>();
    const note = (state: string, detail: Partial<HistoryEvent>) =>
      details.set(state, [...(details.get(state) ?? []), detail]);
    const history: HistoryEvent[] = [{ type: 'ExecutionStarted', at: startedAt.toISOString(), input }];

    const invoke = async (state: string, handler: string, payload: unknown): Promise<unknown> => {
      try {
        const result = await handlers.invoke(handler, payload);
        note(state, { handler, result });
        return result;
      } catch (err) {
        note(state, { handler });
        throw lambdaError(err);
      } finally {
        await checkStopped();
      }
    };
    const handlerFor = (state: string, functionRef: unknown): string => {
      const handler =
        typeof functionRef === 'string' ? this.options.handlerOfFunction(functionRef) : undefined;
      if (!handler)
        throw namedError(
          'Lambda.ResourceNotFoundException',
          `${state}: no local handler for function ${String(functionRef)}`,
        );
      return handler;
    };

    const overrides: Record<string, (input: unknown) => Promise<unknown>> = {};
    for (const [state, binding] of local.bindings) {
      overrides[state] = (stateInput) =>
        this.bound(state, binding, stateInput, {
          executionArn,
          actor,
          aborter,
          invoke,
          handlerFor,
          note,
          tokens,
        });
    }
    const context = {
      Execution: {
        Id: executionArn,
        Name: name,
        LocalStartTime: startedAt.toISOString(),
        RoleArn: this.options.roleArn ?? '',
        RedriveCount: 0,
      },
      StateMachine: { Id: sm.arn, Name: sm.name },
      State: {
        get EnteredTime() {
          return clock.now().toISOString();
        },
      },
    };
    const runOptions: RunOptions = {
      overrides: {
        taskResourceLocalHandlers: overrides as never,
        retryIntervalOverrides: Object.fromEntries(local.retryStates.map((s) => [s, 0])),
      },
      noThrowOnAbort: true,
      context,
    };

    let output: unknown;
    let failure: { error: string; cause?: string } | undefined;
    let retries = 0;
    try {
      machine = new StateMachine(local.definition, {
        validationOptions: { checkArn: true, checkPaths: true },
      }).run(jsonCopy(input) as never, runOptions);
      const consume = (async () => {
        for await (const e of machine.eventLogs) {
          const event = e as unknown as Record<string, unknown> & {
            type: string;
            state?: { name: string; type: string; input?: unknown; output?: unknown };
          };
          if (event.type.startsWith('Execution')) continue;
          const stateName = event.state?.name;
          const binding = stateName ? local.bindings.get(stateName) : undefined;
          const entry: Record<string, unknown> = { type: event.type, at: clock.now().toISOString() };
          if (event.state) {
            entry.state = event.state.name;
            entry.stateType = binding?.kind === 'wait' ? 'Wait' : event.state.type;
            if (event.state.input !== undefined) entry.input = event.state.input;
            if (event.state.output !== undefined) entry.output = event.state.output;
          }
          if (typeof event.Error === 'string') entry.error = event.Error;
          if (event.Cause !== undefined) entry.cause = event.Cause;
          if (event.type === 'StateRetried') {
            retries++;
            entry.attempt = (event.retry as { attempt: number }).attempt;
          }
          if ((event.type === 'StateExited' || event.type === 'StateFailed') && stateName) {
            const queued = details.get(stateName);
            if (queued?.length) Object.assign(entry, queued.shift());
          }
          history.push(entry as unknown as HistoryEvent);
        }
      })();
      try {
        output = await machine.result;
      } catch (err) {
        failure = executionFailure(err);
      }
      await consume;
    } catch (err) {
      failure = executionFailure(err);
    } finally {
      removeTicker();
      cancelDeadline();
    }

    const stoppedAt = clock.now();
    const status: TerminalStatus = ending?.status ?? (failure ? 'FAILED' : 'SUCCEEDED');
    const error = ending ? ending.error : failure?.error;
    const cause = ending ? ending.cause : failure?.cause;
    const outputText = status === 'SUCCEEDED' ? JSON.stringify(output ?? null) : undefined;
    history.push({
      type: {
        SUCCEEDED: 'ExecutionSucceeded',
        FAILED: 'ExecutionFailed',
        TIMED_OUT: 'ExecutionTimedOut',
        ABORTED: 'ExecutionAborted',
      }[status],
      at: stoppedAt.toISOString(),
      ...(status === 'SUCCEEDED' ? { output } : {}),
      ...(error !== undefined ? { error } : {}),
      ...(cause !== undefined ? { cause } : {}),
    });
    for (const t of tokens.pending().filter((p) => p.executionArn === executionArn)) tokens.close(t.token);
    registry.set({
      executionArn,
      stateMachineArn: sm.arn,
      name,
      status,
      startDate: startedAt,
      stopDate: stoppedAt,
      input: inputText,
      ...(outputText !== undefined ? { output: outputText } : {}),
      ...(error !== undefined ? { error } : {}),
      ...(cause !== undefined ? { cause } : {}),
    });

    let statusEvent: PublishResult | undefined;
    if (
      !this.closing &&
      (this.options.statusEvents ?? ['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED']).includes(status)
    ) {
      statusEvent = await this.options.events.publish({
        source: 'aws.states',
        'detail-type': 'Step Functions Execution Status Change',
        resources: [executionArn],
        time: stoppedAt,
        detail: {
          executionArn,
          stateMachineArn: sm.arn,
          name,
          status,
          startDate: startedAt.getTime(),
          stopDate: stoppedAt.getTime(),
          input: inputText,
          inputDetails: { included: true },
          output: outputText ?? null,
          outputDetails: outputText !== undefined ? { included: true } : null,
          error: error ?? null,
          cause: cause ?? null,
        },
      });
    }

    return {
      status,
      ...(status === 'SUCCEEDED' ? { output } : {}),
      ...(error !== undefined ? { error } : {}),
      ...(cause !== undefined ? { cause } : {}),
      executionArn,
      stateMachineArn: sm.arn,
      name,
      history,
      retries,
      startedAt,
      stoppedAt,
      wallMs: Math.round(performance.now() - wallStart),
      ...(statusEvent ? { statusEvent } : {}),
    };
  }

  /** What a bound Task state does when the local runner reaches it. */
  private async bound(
    state: string,
    binding: TaskBinding,
    input: unknown,
    run: {
      executionArn: string;
      actor: Actor;
      aborter: AbortController;
      invoke: (state: string, handler: string, payload: unknown) => Promise<unknown>;
      handlerFor: (state: string, functionRef: unknown) => string;
      note: (state: string, detail: Partial<HistoryEvent>) => void;
      tokens: TaskTokens;
    },
  ): Promise<unknown> {
    const { clock } = this.options;
    switch (binding.kind) {
      case 'wait': {
        const seconds = waitSeconds(binding.wait, input, clock.now());
        run.note(state, { seconds });
        await run.actor.sleep(seconds, run.aborter.signal);
        return input;
      }
      case 'lambda-direct':
        return run.invoke(state, run.handlerFor(state, binding.functionArn), input);
      case 'lambda-invoke': {
        const params = input as { FunctionName?: unknown; Payload?: unknown };
        const payload = await run.invoke(
          state,
          run.handlerFor(state, params.FunctionName),
          params.Payload ?? {},
        );
        return { ExecutedVersion: '$LATEST', Payload: payload ?? null, StatusCode: 200 };
      }
      case 'lambda-invoke-token': {
        const params = input as { FunctionName?: unknown; Payload?: unknown; [TIMEOUT_PARAMETER]?: unknown };
        const handler = run.handlerFor(state, params.FunctionName);
        const timeout = binding.timeoutFromPath ? params[TIMEOUT_PARAMETER] : binding.timeoutSeconds;
        if (timeout !== undefined && !(Number.isInteger(timeout) && (timeout as number) > 0)) {
          throw namedError(
            'States.Runtime',
            `${state}: TimeoutSecondsPath gave ${JSON.stringify(timeout)}, not a positive whole number`,
          );
        }
        const { token, decision } = run.tokens.issue(run.executionArn, state);
        let timedOut: () => void = () => undefined;
        const expired = new Promise<'timeout'>((resolve) => (timedOut = () => resolve('timeout')));
        const cancel =
          timeout !== undefined
            ? clock.schedule(new Date(clock.now().getTime() + (timeout as number) * 1000), () => {
                run.tokens.close(token);
                timedOut();
              })
            : () => undefined;
        const aborted = new Promise<'aborted'>((resolve) =>
          run.aborter.signal.addEventListener('abort', () => resolve('aborted'), { once: true }),
        );
        try {
          await run.invoke(state, handler, withToken(params.Payload ?? {}, token));
          const outcome = await run.actor.suspend(Promise.race([decision, expired, aborted]));
          run.note(state, { token });
          if (outcome === 'timeout')
            throw namedError('States.Timeout', `No decision on the task token within ${timeout} seconds`);
          if (outcome === 'aborted')
            throw new ExecutionStoppedError('the execution ended while waiting for a task token');
          if (outcome.kind === 'failure') throw namedError(outcome.error ?? '', outcome.cause ?? '');
          return outcome.output;
        } finally {
          cancel();
        }
      }
    }
  }
}

/** An error the local runner's Retry and Catch see as `name`, with `message` as the Cause. */
function namedError(name: string, message: string): Error {
  const e = new Error(message);
  e.name = name;
  return e;
}

/** A handler's error as Lambda reports it: Error is its name, Cause the JSON Lambda's runtime writes. */
export function lambdaError(err: unknown): Error {
  const e = err instanceof Error ? err : new Error(String(err));
  const cause = JSON.stringify({
    errorType: e.name,
    errorMessage: e.message,
    trace: (e.stack ?? '').split('\n'),
  });
  return namedError(e.name, cause);
}

/** The Error and Cause of a failed run, from the runner's ExecutionError (whose cause is the state's error). */
function executionFailure(err: unknown): { error: string; cause?: string } {
  const inner = err instanceof Error && err.cause instanceof Error ? err.cause : err;
  if (inner instanceof Error) {
    const defaultFailCause = inner.message === 'Execution failed because of a Fail state';
    return { error: inner.name, ...(defaultFailCause ? {} : { cause: inner.message }) };
  }
  return { error: 'States.Runtime', cause: String(err) };
}
