/**
 * Simulated time for the local cloud: a small discrete-event scheduler behind the handlers' `Clock`.
 *
 * - Time only moves forward, in steps that stop at every tick boundary (a simulated minute by default), at every
 *   scheduled timer and at every sleeper's wake-up time. At each tick boundary the registered tickers run, awaited,
 *   in order (the workload model writes metrics, the alarm evaluator evaluates, runners check their executions).
 * - Executions take part as actors. An actor is running until it sleeps or waits; time moves on its own only while
 *   no actor is running and at least one sleeps (or someone called `advance`). So several executions can share one
 *   clock: a bake of 300 s in one and a wait of 60 s in another interleave as they would in real time, and each
 *   woken actor finishes its work before the clock moves again.
 * - Waiting for something outside (an approval) does not move time by itself; a timer may end the wait.
 */
import type { Clock } from '../lambdas/runtime/clients';

/** Runs at each tick boundary with the new time. */
export type Ticker = (now: Date) => Promise<void> | void;

export interface SimulatedClockOptions {
  /** Where simulated time starts. @default 2026-01-05T09:00:00.000Z (a Monday morning) */
  readonly start?: Date;
  /** Seconds between tick boundaries. @default 60 */
  readonly tickSeconds?: number;
}

export interface TickerOptions {
  /** Tickers run in ascending order; equal orders in registration order. @default 0 */
  readonly order?: number;
}

/** A participant whose waits the clock accounts for. */
export interface Actor {
  readonly name: string;
  /** Sleeps `seconds` of simulated time; time moves to get there. Resolves early (and says so) on abort. */
  sleep(seconds: number, signal?: AbortSignal): Promise<'elapsed' | 'aborted'>;
  /** Waits for something outside; time does not move for it, but other actors and `advance` may move it. */
  suspend<T>(what: Promise<T>): Promise<T>;
  /** Leaves the clock; the actor no longer holds time back. Idempotent. */
  leave(): void;
}

export const DEFAULT_START = new Date('2026-01-05T09:00:00.000Z');

type ActorState =
  | { readonly kind: 'running' }
  | { readonly kind: 'sleeping'; readonly until: number; readonly wake: (err?: unknown) => void }
  | { readonly kind: 'suspended' };

interface Timer {
  readonly at: number;
  readonly seq: number;
  readonly fn: (now: Date) => Promise<void> | void;
}

export class SimulatedClock implements Clock {
  readonly tickMs: number;
  private ms: number;
  private readonly tickers: { fn: Ticker; order: number; seq: number }[] = [];
  private readonly timers: Timer[] = [];
  private readonly actors = new Map<symbol, { name: string; state: ActorState }>();
  private readonly advances: { until: number; resolve: () => void; reject: (e: unknown) => void }[] = [];
  private seq = 0;
  private looping = false;
  private dirty = false;
  private failure: unknown;

  constructor(options: SimulatedClockOptions = {}) {
    this.ms = (options.start ?? DEFAULT_START).getTime();
    this.tickMs = (options.tickSeconds ?? 60) * 1000;
    if (!(this.tickMs > 0)) throw new Error('tickSeconds must be positive');
  }

  now(): Date {
    return new Date(this.ms);
  }

  /** Registers a ticker; returns a function that removes it. */
  onTick(fn: Ticker, options: TickerOptions = {}): () => void {
    const entry = { fn, order: options.order ?? 0, seq: this.seq++ };
    this.tickers.push(entry);
    this.tickers.sort((a, b) => a.order - b.order || a.seq - b.seq);
    return () => {
      const i = this.tickers.indexOf(entry);
      if (i >= 0) this.tickers.splice(i, 1);
    };
  }

  /** Runs `fn` once when simulated time reaches `at` (at once if it already has, on the next step). */
  schedule(at: Date, fn: (now: Date) => Promise<void> | void): () => void {
    if (Number.isNaN(at.getTime())) throw new TypeError('cannot schedule at an invalid date');
    const timer: Timer = { at: at.getTime(), seq: this.seq++, fn };
    this.timers.push(timer);
    this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
    this.kick();
    return () => {
      const i = this.timers.indexOf(timer);
      if (i >= 0) this.timers.splice(i, 1);
    };
  }

  /**
   * Moves time forward by `seconds`, stopping at each tick boundary, timer and wake-up on the way, and letting
   * woken actors finish their work before moving on. Resolves once time has reached the target.
   */
  advance(seconds: number): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (Number.isNaN(seconds)) return Promise.reject(new TypeError('cannot advance by NaN seconds'));
    if (!(seconds > 0)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.advances.push({ until: this.ms + seconds * 1000, resolve, reject });
      this.kick();
    });
  }

  /** Joins the clock as a running actor. */
  join(name: string): Actor {
    const id = Symbol(name);
    const entry: { name: string; state: ActorState } = { name, state: { kind: 'running' } };
    this.actors.set(id, entry);
    const running = () => {
      if (this.actors.has(id)) entry.state = { kind: 'running' };
    };
    return {
      name,
      sleep: (seconds, signal) => {
        if (this.failure) return Promise.reject(this.failure);
        if (signal?.aborted) return Promise.resolve('aborted');
        if (Number.isNaN(seconds)) return Promise.reject(new TypeError('cannot sleep NaN seconds'));
        if (!(seconds > 0)) return Promise.resolve('elapsed');
        return new Promise((resolve, reject) => {
          const onAbort = () => {
            running();
            resolve('aborted');
            this.kick();
          };
          signal?.addEventListener('abort', onAbort, { once: true });
          const wake = (err?: unknown) => {
            signal?.removeEventListener('abort', onAbort);
            running();
            if (err === undefined) resolve('elapsed');
            else reject(err);
          };
          entry.state = { kind: 'sleeping', until: this.ms + seconds * 1000, wake };
          this.kick();
        });
      },
      suspend: async (what) => {
        entry.state = { kind: 'suspended' };
        this.kick();
        try {
          return await what;
        } finally {
          running();
        }
      },
      leave: () => {
        if (this.actors.delete(id)) this.kick();
      },
    };
  }

  /** Names of the actors that hold time back right now (for diagnostics). */
  runningActors(): string[] {
    return [...this.actors.values()].filter((a) => a.state.kind === 'running').map((a) => a.name);
  }

  private kick(): void {
    this.dirty = true;
    if (this.looping) return;
    this.looping = true;
    setImmediate(() => void this.loop());
  }

  private async loop(): Promise<void> {
    try {
      while (this.dirty && !this.failure) {
        this.dirty = false;
        while (await this.step());
      }
    } catch (err) {
      this.fail(err);
    } finally {
      this.looping = false;
    }
  }

  /** Makes one step if time may move; returns whether it did. */
  private async step(): Promise<boolean> {
    const actors = [...this.actors.values()];
    if (actors.some((a) => a.state.kind === 'running')) return false;
    const wakeTimes = actors.flatMap((a) => (a.state.kind === 'sleeping' ? [a.state.until] : []));
    const driven = [...wakeTimes, ...this.advances.map((a) => a.until)];
    if (driven.length === 0) return false;
    const target = Math.min(...driven, ...this.timers.map((t) => t.at));
    const nextTick = (Math.floor(this.ms / this.tickMs) + 1) * this.tickMs;
    const to = Math.max(this.ms, Math.min(target, nextTick));
    this.ms = to;
    const now = () => new Date(this.ms);
    if (to % this.tickMs === 0 && to !== this.lastTick) {
      this.lastTick = to;
      for (const ticker of [...this.tickers]) await ticker.fn(now());
    }
    while (this.timers.length > 0 && this.timers[0]!.at <= this.ms) await this.timers.shift()!.fn(now());
    for (const actor of actors)
      if (actor.state.kind === 'sleeping' && actor.state.until <= this.ms) actor.state.wake();
    for (const pending of this.advances.filter((a) => a.until <= this.ms)) {
      this.advances.splice(this.advances.indexOf(pending), 1);
      pending.resolve();
    }
    return true;
  }

  private lastTick = Number.NaN;

  private fail(err: unknown): void {
    this.failure = err;
    for (const pending of this.advances.splice(0)) pending.reject(err);
    for (const actor of this.actors.values()) if (actor.state.kind === 'sleeping') actor.state.wake(err);
  }

  /** The error a ticker or timer threw, after which the clock stops; undefined while healthy. */
  get error(): unknown {
    return this.failure;
  }
}
