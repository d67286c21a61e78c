/**
 * Fault injection for the local cloud: faults on the handlers' AWS calls, chosen per test or per scenario.
 * Installed as SDK middleware on the handlers' clients (`LocalCloud.start({ configureHandlerClients })`), so the
 * real handlers meet the fault exactly where an AWS call would fail.
 *
 * - `throttle` / `server-error`: the call answers ThrottlingException / 500 before reaching moto, `times` times.
 * - `crash-after`: the call reaches moto and succeeds, then the step dies (its retry repeats the call).
 * - `lose-race`: a DynamoDB conditional write fails its condition, as when another writer got there first.
 */
import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import type { LocalClients } from './clients';

export type FaultKind = 'throttle' | 'server-error' | 'crash-after' | 'lose-race';

export interface Fault {
  readonly kind: FaultKind;
  /** The SDK command the fault hits, e.g. `ModifyListenerCommand`, `UpdateTaskSetCommand`, `UpdateItemCommand`. */
  readonly command: string;
  /** How many calls it hits, in order; the rest go through. @default 1 */
  readonly times?: number;
  /** Calls to let through before the first hit. @default 0 */
  readonly skip?: number;
}

export interface InjectedFault extends Fault {
  /** How many calls the fault has hit so far. */
  readonly hits: number;
}

type Middleware = (
  next: (args: unknown) => Promise<unknown>,
  context: { commandName?: string },
) => (args: unknown) => Promise<unknown>;

/** A set of faults, installed once on a cloud's handler clients; faults can be armed per test. */
export class FaultInjector {
  private faults: { fault: Fault; seen: number; hits: number }[] = [];

  /** Arms faults (replacing any armed before). */
  arm(...faults: Fault[]): void {
    this.faults = faults.map((fault) => ({ fault, seen: 0, hits: 0 }));
  }

  disarm(): void {
    this.faults = [];
  }

  /** What each armed fault has hit. */
  report(): InjectedFault[] {
    return this.faults.map((f) => ({ ...f.fault, hits: f.hits }));
  }

  /** For `LocalCloud.start({ configureHandlerClients: injector.install })`. */
  readonly install = (clients: LocalClients): void => {
    for (const client of [
      clients.ecs,
      clients.elb,
      clients.cloudwatch,
      clients.dynamodb,
      clients.sfn,
      clients.sns,
    ]) {
      (client.middlewareStack.add as (mw: Middleware, options: object) => void)(this.middleware, {
        step: 'initialize',
        name: 'faultInjector',
        priority: 'high',
      });
    }
  };

  private readonly middleware: Middleware = (next, context) => async (args) => {
    const armed = this.faults.find((f) => f.fault.command === context.commandName && this.due(f));
    if (!armed) return next(args);
    armed.hits++;
    switch (armed.fault.kind) {
      case 'throttle':
        throw awsError('ThrottlingException', 'Rate exceeded', 400);
      case 'server-error':
        throw awsError('InternalFailure', 'We encountered an internal error. Please try again.', 500);
      case 'lose-race':
        // The SDK's own exception classes, as the store tells them apart with instanceof and by name.
        if (context.commandName === 'TransactWriteItemsCommand') {
          throw new TransactionCanceledException({
            message:
              'Transaction cancelled, please refer cancellation reasons for specific reasons [ConditionalCheckFailed]',
            $metadata: { httpStatusCode: 400 },
            CancellationReasons: [{ Code: 'ConditionalCheckFailed' }],
          });
        }
        throw new ConditionalCheckFailedException({
          message: 'The conditional request failed',
          $metadata: { httpStatusCode: 400 },
        });
      case 'crash-after': {
        await next(args);
        throw Object.assign(new Error(`the step crashed after ${context.commandName} succeeded`), {
          name: 'Runtime.ExitError',
        });
      }
    }
  };

  private due(f: { fault: Fault; seen: number; hits: number }): boolean {
    f.seen++;
    return f.seen > (f.fault.skip ?? 0) && f.hits < (f.fault.times ?? 1);
  }
}

function awsError(name: string, message: string, status: number): Error {
  return Object.assign(new Error(message), {
    name,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status },
  });
}
