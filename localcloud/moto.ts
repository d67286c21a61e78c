/**
 * `moto_server` on a free loopback port, owned by this process: started, waited for, reset and always stopped.
 *
 * The server runs in its own process group under a small `sh` guard that also reads this process's end of a
 * pipe: when this process dies in any way (even SIGKILL), the pipe closes and the guard stops moto. On a normal
 * exit, SIGINT, SIGTERM or SIGHUP, registered handlers kill every server still running, synchronously.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

export interface MotoServerOptions {
  /** The executable. @default process.env.MOTO_SERVER ?? 'moto_server' */
  readonly command?: string;
  /** The account id moto puts in every ARN (`MOTO_ACCOUNT_ID`). @default moto's own, 123456789012 */
  readonly accountId?: string;
  /** How long to wait for the server to answer. @default 20000 */
  readonly startTimeoutMs?: number;
}

const HOST = '127.0.0.1';

/** Every server this process started and has not stopped: the exit handlers kill these. */
const live = new Set<MotoServer>();
let handlersInstalled = false;

export class MotoServer {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  private stopping: Promise<void> | undefined;
  private exited = false;
  private readonly exit: Promise<void>;

  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
    /** The guard's pid, which is also the process group id of the guard and moto. */
    readonly pid: number,
    private readonly stderrTail: () => string,
  ) {
    this.endpoint = `http://${HOST}:${port}`;
    this.exit = new Promise((resolve) => child.once('exit', () => resolve()));
    child.once('exit', () => {
      this.exited = true;
    });
  }

  /** Wall-clock milliseconds from spawn until the server answered. */
  startupMs = 0;

  /** Starts a server on a free port and resolves once it answers HTTP. Retries once on a lost port race. */
  static async start(options: MotoServerOptions = {}): Promise<MotoServer> {
    let lastError: unknown;
    for (let attempt = 0; attempt < 3; attempt++) {
      const server = MotoServer.spawn(await freePort(), options);
      try {
        await server.waitUntilReady(options.startTimeoutMs ?? 20_000);
        return server;
      } catch (err) {
        lastError = err;
        await server.stop();
        if (!/address already in use/i.test(server.stderrTail())) break;
      }
    }
    throw lastError;
  }

  private static spawn(port: number, options: MotoServerOptions): MotoServer {
    const command = options.command ?? process.env.MOTO_SERVER ?? 'moto_server';
    // moto in the background with a watcher that stops it when our pipe on stdin closes (an asynchronous list
    // reads /dev/null unless redirected, hence fd 3). The shell lives as long as moto and reaps both children
    // before it exits, so that once it has exited nothing of the group is left, not even a zombie.
    const script = [
      'exec 3<&0',
      '"$0" -H "$1" -p "$2" </dev/null & m=$!',
      '(while read -r _; do :; done; kill -TERM "$m" 2>/dev/null) <&3 & w=$!',
      'exec 3<&-',
      'trap \'kill -TERM "$m" "$w" 2>/dev/null; wait; exit 143\' TERM INT HUP',
      'wait "$m"; code=$?',
      'kill -TERM "$w" 2>/dev/null; wait',
      'exit "$code"',
    ].join('\n');
    const child = spawn('sh', ['-c', script, command, HOST, String(port)], {
      detached: true,
      stdio: ['pipe', 'ignore', 'pipe'],
      env: { ...process.env, ...(options.accountId ? { MOTO_ACCOUNT_ID: options.accountId } : {}) },
    });
    if (child.pid === undefined) throw new Error(`cannot start ${command}`);
    // moto logs every request to stderr: keep draining it (a full pipe would block the server), keep a tail.
    let tail = '';
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      tail = (tail + chunk).slice(-4000);
    });
    child.stdin!.on('error', () => undefined);
    const server = new MotoServer(child, port, child.pid, () => tail);
    server.startedAt = performance.now();
    live.add(server);
    installExitHandlers();
    return server;
  }

  private startedAt = 0;

  private async waitUntilReady(timeoutMs: number): Promise<void> {
    const deadline = this.startedAt + timeoutMs;
    while (performance.now() < deadline) {
      if (this.exited) throw new Error(`moto_server exited before answering: ${this.stderrTail().trim()}`);
      try {
        const res = await fetch(`${this.endpoint}/moto-api/`, { signal: AbortSignal.timeout(1000) });
        await res.arrayBuffer();
        if (res.ok) {
          this.startupMs = Math.round(performance.now() - this.startedAt);
          return;
        }
      } catch {
        // not listening yet
      }
      await sleep(25);
    }
    throw new Error(
      `moto_server did not answer on ${this.endpoint} within ${timeoutMs} ms: ${this.stderrTail().trim()}`,
    );
  }

  /** Clears every resource in every service (`POST /moto-api/reset`). */
  async reset(): Promise<void> {
    const res = await fetch(`${this.endpoint}/moto-api/reset`, { method: 'POST' });
    await res.arrayBuffer();
    if (!res.ok) throw new Error(`moto reset answered ${res.status}`);
  }

  /** The last few kilobytes moto wrote to stderr (its request log and tracebacks), for diagnostics. */
  logTail(): string {
    return this.stderrTail();
  }

  /** Seeds moto's random generator (`POST /moto-api/seed`): the same calls then give the same ids and ARNs. */
  async seed(seed: number): Promise<void> {
    const res = await fetch(`${this.endpoint}/moto-api/seed?a=${Math.trunc(seed)}`, { method: 'POST' });
    await res.arrayBuffer();
    if (!res.ok) throw new Error(`moto seed answered ${res.status}`);
  }

  /** Whether any process of the server's group is still alive. */
  isAlive(): boolean {
    return groupAlive(this.pid);
  }

  /** Stops the server and its guard: SIGTERM to the group, SIGKILL after a grace period. Idempotent. */
  stop(): Promise<void> {
    return (this.stopping ??= this.terminate());
  }

  private async terminate(): Promise<void> {
    this.child.stdin?.destroy();
    signalGroup(this.pid, 'SIGTERM');
    const graceful = await Promise.race([this.exit.then(() => true), sleep(3000).then(() => false)]);
    if (!graceful || groupAlive(this.pid)) {
      signalGroup(this.pid, 'SIGKILL');
      await this.exit;
      // Orphans killed this way are reaped by init; wait until the kernel says the group is empty.
      while (groupAlive(this.pid)) await sleep(10);
    }
    this.child.stderr?.destroy();
    live.delete(this);
  }

  /** Synchronous last resort for process exit. */
  killNow(): void {
    signalGroup(this.pid, 'SIGKILL');
    live.delete(this);
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // already gone
  }
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A port the kernel just handed out on loopback (released again before moto binds it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, HOST, () => {
      const address = srv.address();
      srv.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/** The servers this process started and has not stopped yet. */
export function runningMotoServers(): readonly MotoServer[] {
  return [...live];
}

function killAll(): void {
  for (const server of [...live]) server.killNow();
}

function installExitHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.once('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = () => {
      killAll();
      // Let whoever else listens decide; alone, re-raise so that the default action (exit) still happens.
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    };
    process.once(signal, onSignal);
  }
}
