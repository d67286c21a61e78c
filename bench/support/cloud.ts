/** What the local-cloud benchmarks share: configs with many services, alarm events, holding a run, handlers. */
import { readdirSync } from 'node:fs';
import type { ProjectConfig, ServiceConfig } from '../../lambdas/domain/config';
import { LocalCloud, type LocalCloudOptions } from '../../localcloud';
import { HANDLERS_DIR, moduleFactory, type Handler, type HandlerFactory } from '../../localcloud/handlers';
import type { Actor } from '../../localcloud/clock';
import { builtInScenario } from '../../localcloud/scenarios';
import { installCloudWatchReadFixes, Workload } from '../../localcloud/workload';

export const ENVIRONMENT = 'staging';
export const SERVICE = 'checkout';

/** Every handler module under `lambdas/handlers/`, by kebab name. */
export function handlerNames(): string[] {
  return readdirSync(HANDLERS_DIR)
    .filter((f) => /^[a-z][a-z0-9-]*\.ts$/.test(f))
    .map((f) => f.replace(/\.ts$/, ''))
    .sort();
}

/** Starts a cloud, runs `work` in it, and always stops it (moto included). */
export async function withCloud<T>(options: LocalCloudOptions, work: (cloud: LocalCloud) => Promise<T>) {
  const cloud = await LocalCloud.start(options);
  try {
    return await work(cloud);
  } finally {
    await cloud.stop();
  }
}

/**
 * Cloud options that let the workload model's metrics be read as CloudWatch would serve them (percentiles, minute
 * boundaries, dimension order), as `envctl simulate` does.
 */
export const readsFixed: Pick<LocalCloudOptions, 'configureHandlerClients'> = {
  configureHandlerClients: (clients) => installCloudWatchReadFixes(clients.cloudwatch),
};

/** Healthy traffic on each named service, through the listener weights moto holds, until the returned stop. */
export async function healthyTraffic(cloud: LocalCloud, services: readonly string[]): Promise<() => void> {
  const env = cloud.config.environments.find((e) => e.name === cloud.environment)!;
  const workloads = await Promise.all(
    services.map((name, i) =>
      Workload.attach({
        clock: cloud.clock,
        clients: cloud.clients,
        service: env.services.find((s) => s.name === name)!,
        scenario: builtInScenario('healthy'),
        seed: i + 1,
      }),
    ),
  );
  return () => workloads.forEach((w) => w.detach());
}

const pad = (i: number) => String(i).padStart(3, '0');

/**
 * The config with `count` services in the environment, each shaped like its `checkout` (same deployment and
 * health settings), one load balancer with a listener per service, and only the alarm kinds asked for.
 */
export function manyServices(
  base: ProjectConfig,
  count: number,
  alarms: { readonly errorRate: boolean; readonly latency: boolean; readonly unhealthyHosts: boolean },
): ProjectConfig {
  const env = base.environments.find((e) => e.name === ENVIRONMENT);
  const proto = env?.services.find((s) => s.name === SERVICE);
  if (!env || !proto) throw new Error(`the config has no ${ENVIRONMENT} service ${SERVICE}`);
  const arn = `arn:aws:elasticloadbalancing:${env.region}:${env.account}`;
  const services: ServiceConfig[] = Array.from({ length: count }, (_, i) => {
    const { testListener: _test, ...rest } = proto;
    return {
      ...rest,
      name: `svc${pad(i)}`,
      ecsService: `svc${pad(i)}`,
      listener: { arn: `${arn}:listener/app/bench-${ENVIRONMENT}/2b3c4d5e6f7a8b9c/${pad(i)}aaaaa2b3c4d5e` },
      targetGroups: {
        blue: `${arn}:targetgroup/svc${pad(i)}-blue/c9b8a7f6e5d4c3b2`,
        green: `${arn}:targetgroup/svc${pad(i)}-green/6f7a8b9c2b3c4d5e`,
      },
      alarms: { ...proto.alarms, ...alarms },
    };
  });
  return { ...base, environments: base.environments.map((e) => (e === env ? { ...env, services } : e)) };
}

/** A "CloudWatch Alarm State Change" event to ALARM, as EventBridge hands it to the rollback function. */
export function alarmEvent(cloud: LocalCloud, alarmName: string, id: string) {
  const env = cloud.config.environments.find((e) => e.name === cloud.environment)!;
  const now = cloud.clock.now().toISOString();
  return {
    version: '0',
    id,
    'detail-type': 'CloudWatch Alarm State Change',
    source: 'aws.cloudwatch',
    account: env.account,
    time: now,
    region: env.region,
    resources: [`arn:aws:cloudwatch:${env.region}:${env.account}:alarm:${alarmName}`],
    detail: {
      alarmName,
      previousState: { value: 'OK', reason: 'ok', timestamp: now },
      state: {
        value: 'ALARM',
        reason: 'Threshold Crossed: 2 out of the last 3 datapoints were greater than the threshold (2.0)',
        timestamp: now.replace('Z', '+0000'),
      },
    },
  };
}

/**
 * Holds simulated time: while held, no Wait or bake of any run ends, so a run that reaches one stays there.
 * `holdAfter(handler)` builds a factory whose handler, once asked to, holds the clock right after its call
 * returns, before the run can move on.
 */
export class ClockHold {
  private actor: Actor | undefined;
  private armed: ((executionArn: string) => boolean) | undefined;
  private onHeld: (() => void) | undefined;

  constructor(private readonly cloud: () => LocalCloud) {}

  get held(): boolean {
    return this.actor !== undefined;
  }

  /** Holds now. */
  hold(): void {
    this.actor ??= this.cloud().clock.join('bench-hold');
  }

  release(): void {
    this.actor?.leave();
    this.actor = undefined;
  }

  /** Resolves once the wrapped handler has returned for an execution `which` accepts, with the clock held. */
  next(which: (executionArn: string) => boolean): Promise<void> {
    return new Promise((resolve) => {
      this.armed = which;
      this.onHeld = resolve;
    });
  }

  holdAfter(name: string): HandlerFactory {
    return (deps) => {
      const real = moduleFactory(name)(deps);
      return async (event: { deployment?: { executionArn?: string } }) => {
        const out = await real(event);
        const arn = event.deployment?.executionArn ?? '';
        if (this.armed?.(arn)) {
          this.hold();
          this.armed = undefined;
          this.onHeld?.();
        }
        return out;
      };
    };
  }
}

/** Handler factories that time every invocation of every handler module, by name. */
export function timedHandlers(
  names: readonly string[],
  record: (name: string, ms: number) => void,
  replace: Readonly<Record<string, HandlerFactory>> = {},
): Record<string, HandlerFactory> {
  return Object.fromEntries(
    names.map((name) => [
      name,
      (deps) => {
        const real: Handler = (replace[name] ?? moduleFactory(name))(deps);
        return async (event: unknown) => {
          const started = performance.now();
          try {
            return await real(event);
          } finally {
            record(name, performance.now() - started);
          }
        };
      },
    ]),
  );
}

/** Rejects after `ms` with a message naming what was awaited. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`gave up waiting ${ms} ms for ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

export const release = (service: string, image: string, extra: Record<string, unknown> = {}) => ({
  environment: ENVIRONMENT,
  service,
  image,
  reason: 'benchmark',
  requestedBy: 'bench',
  ...extra,
});
