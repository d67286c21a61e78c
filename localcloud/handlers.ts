/**
 * The handlers the local cloud invokes, by their kebab name (`lambdas/handlers/<kebab>.ts`). Each is built on first
 * use from the module's `make(deps)`, with the deps of the function that runs it in the stack (its TABLE_NAME and
 * topic variables) when the stack has one, else the environment's default deps. Tests add or replace handlers
 * with factories of their own.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import type { Deps } from '../lambdas/runtime/deps';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- handlers take each their own event type
export type Handler = (event: any) => Promise<unknown>;
export type HandlerFactory = (deps: Deps) => Handler;

export const HANDLERS_DIR = path.join(__dirname, '..', 'lambdas', 'handlers');

export class UnknownHandlerError extends Error {
  override readonly name = 'UnknownHandlerError';
}

/** Whether `lambdas/handlers/<name>.ts` exists. */
export function handlerModuleExists(name: string): boolean {
  return /^[a-z][a-z0-9-]*$/.test(name) && existsSync(path.join(HANDLERS_DIR, `${name}.ts`));
}

/** Loads a handler module's factory: `make(deps)`, the convention every handler module follows. */
export function moduleFactory(name: string): HandlerFactory {
  if (!handlerModuleExists(name))
    throw new UnknownHandlerError(`no handler "${name}": lambdas/handlers/${name}.ts does not exist`);
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on first use, by name
  const mod = require(path.join(HANDLERS_DIR, name)) as { make?: HandlerFactory };
  if (typeof mod.make !== 'function')
    throw new UnknownHandlerError(`lambdas/handlers/${name}.ts exports no make(deps)`);
  return mod.make;
}

export class HandlerRegistry {
  private readonly built = new Map<string, Handler>();

  constructor(
    /** The deps for a handler: its function's in the stack, or the default. */
    private readonly depsFor: (name: string) => Deps,
    /** Factories that replace or add to the modules in `lambdas/handlers/`. */
    private readonly factories: Readonly<Record<string, HandlerFactory>> = {},
  ) {}

  has(name: string): boolean {
    return name in this.factories || handlerModuleExists(name);
  }

  /** The handler called `name`, built on first use. */
  get(name: string): Handler {
    let handler = this.built.get(name);
    if (!handler) {
      const factory = this.factories[name] ?? moduleFactory(name);
      handler = factory(this.depsFor(name));
      this.built.set(name, handler);
    }
    return handler;
  }

  /** Invokes the handler as Lambda would: the event and the result each go through JSON, as they do in Lambda. */
  invoke(name: string, event: unknown): Promise<unknown> {
    return this.get(name)(jsonCopy(event)).then(jsonCopy);
  }
}

/** A value as it arrives after JSON serialization (undefined stays undefined: Lambda returns null for it). */
export function jsonCopy<T>(value: T): T {
  return value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T);
}
