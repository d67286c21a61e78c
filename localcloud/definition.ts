/**
 * Turns a state machine definition into one that aws-local-stepfunctions runs the way Step Functions would in
 * simulated time. What changes, and why:
 *
 * - Every Wait state becomes a Task bound to the harness, which computes the wait (Seconds, SecondsPath,
 *   Timestamp, TimestampPath) and sleeps it on the simulated clock. Its InputPath, OutputPath and transitions are
 *   kept, and it passes its input through as a Wait does. (Wait time overrides of 0 would skip the time instead.)
 * - A `lambda:invoke.waitForTaskToken` Task becomes a plain `lambda:invoke` whose `$$.Task.Token` parameters hold
 *   a placeholder the harness swaps for a fresh token; its TimeoutSeconds moves to the harness (simulated time).
 * - The top-level TimeoutSeconds moves to the harness (simulated time); the runner would count it in wall time.
 * - `$$.Execution.StartTime` reads a field the harness sets to the simulated start (the runner overwrites
 *   StartTime with wall-clock time); `$$.State.Name` becomes the state's name.
 * - Every state with Retry gets a retry interval override of 0 (retries are counted, not waited for).
 * - `"ResultPath": "$"` (on a state or a catcher) is dropped: it is the default, and the runner would store the
 *   result under a key named `$` instead of replacing the input.
 */
import type { StateMachineDefinition } from 'aws-local-stepfunctions';

export const LAMBDA_INVOKE = 'arn:aws:states:::lambda:invoke';
export const LAMBDA_INVOKE_WAIT_FOR_TOKEN = 'arn:aws:states:::lambda:invoke.waitForTaskToken';
/** What a Task's `$$.Task.Token` parameter holds until the harness puts the token in. */
export const TASK_TOKEN_PLACEHOLDER = '<<localcloud:task-token>>';
/** The parameter that carries a token step's TimeoutSecondsPath value to the harness (removed before the call). */
export const TIMEOUT_PARAMETER = 'LocalCloudTimeoutSeconds';
/** Wall-clock guard for Tasks the harness times itself: as long as a timer allows (about 23 days). */
const NO_WALL_TIMEOUT_SECONDS = 2_000_000;

export interface WaitSpec {
  readonly Seconds?: number;
  readonly SecondsPath?: string;
  readonly Timestamp?: string;
  readonly TimestampPath?: string;
}

export type TaskBinding =
  | { readonly kind: 'lambda-invoke' }
  | {
      readonly kind: 'lambda-invoke-token';
      readonly timeoutSeconds?: number;
      /** Whether the timeout comes from TimeoutSecondsPath, read into the TIMEOUT_PARAMETER parameter. */
      readonly timeoutFromPath?: boolean;
    }
  | { readonly kind: 'lambda-direct'; readonly functionArn: string }
  | { readonly kind: 'wait'; readonly wait: WaitSpec };

export interface LocalDefinition {
  /** What the local runner runs. */
  readonly definition: StateMachineDefinition;
  /** The harness's binding of every Task state (by name; names are unique across the whole definition). */
  readonly bindings: ReadonlyMap<string, TaskBinding>;
  /** States with a Retry, for the retry interval overrides. */
  readonly retryStates: readonly string[];
  /** The execution's TimeoutSeconds, enforced by the harness in simulated time. */
  readonly timeoutSeconds?: number;
}

export class UnsupportedDefinitionError extends Error {
  override readonly name = 'UnsupportedDefinitionError';
}

type StateJson = Record<string, unknown>;
type StatesJson = Record<string, StateJson>;

/** Prepares a definition (JSON text with any substitutions already filled in) for the local runner. */
export function localizeDefinition(text: string): LocalDefinition {
  // (A replacer function: in a replacement string, `$$` would stand for a single `$`.)
  const root = JSON.parse(
    text.replaceAll('$$.Execution.StartTime', () => '$$.Execution.LocalStartTime'),
  ) as StateJson;
  const bindings = new Map<string, TaskBinding>();
  const retryStates: string[] = [];
  const unsupported: string[] = [];

  const visit = (states: StatesJson) => {
    for (const [name, state] of Object.entries(states)) {
      if (bindings.has(name)) throw new UnsupportedDefinitionError(`state name "${name}" is used twice`);
      if (Array.isArray(state.Retry) && state.Retry.length > 0) retryStates.push(name);
      if (state.ResultPath === '$') delete state.ResultPath;
      for (const catcher of (state.Catch ?? []) as StateJson[])
        if (catcher.ResultPath === '$') delete catcher.ResultPath;
      for (const key of ['Parameters', 'ResultSelector']) {
        if (state[key] !== undefined) state[key] = replaceContextPath(state[key], '$$.State.Name', name);
      }
      switch (state.Type) {
        case 'Wait': {
          const wait: WaitSpec = pick(state, ['Seconds', 'SecondsPath', 'Timestamp', 'TimestampPath']);
          states[name] = {
            Type: 'Task',
            Resource: `arn:aws:lambda:us-east-1:000000000000:function:localcloud-wait`,
            TimeoutSeconds: NO_WALL_TIMEOUT_SECONDS,
            ...pick(state, ['Comment', 'InputPath', 'OutputPath', 'Next', 'End']),
          };
          bindings.set(name, { kind: 'wait', wait });
          break;
        }
        case 'Task': {
          const resource = String(state.Resource);
          if (resource === LAMBDA_INVOKE) {
            bindings.set(name, { kind: 'lambda-invoke' });
          } else if (resource === LAMBDA_INVOKE_WAIT_FOR_TOKEN) {
            const binding = {
              kind: 'lambda-invoke-token' as const,
              ...(typeof state.TimeoutSeconds === 'number' ? { timeoutSeconds: state.TimeoutSeconds } : {}),
              ...(typeof state.TimeoutSecondsPath === 'string' ? { timeoutFromPath: true } : {}),
            };
            // TimeoutSecondsPath reads the state's input, as Parameters do: let Parameters read it for the harness.
            if (typeof state.TimeoutSecondsPath === 'string') {
              state.Parameters = {
                ...(state.Parameters as object),
                [`${TIMEOUT_PARAMETER}.$`]: state.TimeoutSecondsPath,
              };
            }
            delete state.TimeoutSecondsPath;
            delete state.HeartbeatSeconds;
            delete state.HeartbeatSecondsPath;
            state.TimeoutSeconds = NO_WALL_TIMEOUT_SECONDS;
            state.Resource = LAMBDA_INVOKE;
            state.Parameters = replaceContextPath(state.Parameters, '$$.Task.Token', TASK_TOKEN_PLACEHOLDER);
            bindings.set(name, binding);
          } else if (/^arn:aws[a-z-]*:lambda:[^:]+:\d{12}:function:/.test(resource)) {
            bindings.set(name, { kind: 'lambda-direct', functionArn: resource });
          } else {
            unsupported.push(`${name} (${resource})`);
          }
          break;
        }
        case 'Parallel':
          for (const branch of (state.Branches ?? []) as { States: StatesJson }[]) visit(branch.States);
          break;
        case 'Map': {
          const inner = (state.ItemProcessor ?? state.Iterator) as { States: StatesJson } | undefined;
          if (inner) visit(inner.States);
          break;
        }
      }
    }
  };
  visit(root.States as StatesJson);
  if (unsupported.length > 0) {
    throw new UnsupportedDefinitionError(
      `Task resources the local cloud cannot run: ${unsupported.join(', ')}`,
    );
  }
  const timeoutSeconds = typeof root.TimeoutSeconds === 'number' ? root.TimeoutSeconds : undefined;
  delete root.TimeoutSeconds;
  return {
    definition: root as unknown as StateMachineDefinition,
    bindings,
    retryStates,
    ...(timeoutSeconds !== undefined ? { timeoutSeconds } : {}),
  };
}

/** Replaces every `"key.$": "<path>"` in a payload template with `"key": <value>`. */
function replaceContextPath(template: unknown, path: string, value: unknown): unknown {
  if (Array.isArray(template)) return template.map((t) => replaceContextPath(t, path, value));
  if (!template || typeof template !== 'object') return template;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(template as Record<string, unknown>)) {
    if (k.endsWith('.$') && v === path) out[k.slice(0, -2)] = value;
    else out[k] = replaceContextPath(v, path, value);
  }
  return out;
}

function pick(state: StateJson, keys: string[]): Record<string, never> {
  return Object.fromEntries(keys.filter((k) => state[k] !== undefined).map((k) => [k, state[k]])) as Record<
    string,
    never
  >;
}

/** Replaces every occurrence of the placeholder string in a value (the Payload a token step sends). */
export function withToken(value: unknown, token: string): unknown {
  if (value === TASK_TOKEN_PLACEHOLDER) return token;
  if (Array.isArray(value)) return value.map((v) => withToken(v, token));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, withToken(v, token)]),
    );
  }
  return value;
}

/** A simple JSONPath (`$`, `$.a.b`, `$.a[0]`, `$['a']`) read from `data`; undefined where nothing is. */
export function readPath(data: unknown, path: string): unknown {
  if (!path.startsWith('$')) throw new UnsupportedDefinitionError(`not a path: ${path}`);
  const parts = [...path.slice(1).matchAll(/\.([^.[\]]+)|\[(\d+)\]|\['([^']+)'\]/g)].map(
    (m) => m[1] ?? m[3] ?? Number(m[2]),
  );
  let node: unknown = data;
  for (const p of parts) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string | number, unknown>)[p];
  }
  return node;
}

/** The seconds a Wait state waits, given its effective input and the simulated now. */
export function waitSeconds(wait: WaitSpec, input: unknown, now: Date): number {
  if (wait.Seconds !== undefined) return wait.Seconds;
  if (wait.SecondsPath !== undefined) {
    const s = readPath(input, wait.SecondsPath);
    if (typeof s !== 'number' || !Number.isInteger(s) || s < 0) {
      throw new UnsupportedDefinitionError(
        `SecondsPath ${wait.SecondsPath} gave ${JSON.stringify(s)}, not a whole number`,
      );
    }
    return s;
  }
  const stamp =
    wait.Timestamp ?? (wait.TimestampPath !== undefined ? readPath(input, wait.TimestampPath) : undefined);
  const at = typeof stamp === 'string' ? Date.parse(stamp) : Number.NaN;
  if (Number.isNaN(at))
    throw new UnsupportedDefinitionError(`Wait timestamp ${JSON.stringify(stamp)} is not a timestamp`);
  return Math.max(0, (at - now.getTime()) / 1000);
}
