/**
 * Helpers for jest suites that run against the local cloud, and probes that read what moto holds (assertions
 * should read moto's state, not lists of calls).
 *
 * ```ts
 * const local = withLocalCloud({ handlers: { echo: () => async (e) => e } });
 * it('…', async () => {
 *   const result = await local.cloud.runner.run({ stateMachine: 'canary', input });
 *   expect(await listenerWeights(local.cloud, 'checkout')).toEqual({ blue: 0, green: 100 });
 * });
 * ```
 */
import { DescribeServicesCommand, type TaskSet } from '@aws-sdk/client-ecs';
import {
  DescribeListenersCommand,
  DescribeRulesCommand,
  type Action,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { LocalCloud, type LocalCloudOptions } from './index';

export interface LocalCloudFixture {
  /** The cloud of this suite; available from `beforeAll` on. */
  readonly cloud: LocalCloud;
}

/**
 * Starts a local cloud before the suite's tests and always stops it after them, even when a test or the start
 * itself failed. Options may be a function, evaluated when the suite starts. Handlers log at WARN unless told.
 */
export function withLocalCloud(
  options: LocalCloudOptions | (() => LocalCloudOptions) = {},
  { startTimeoutMs = 120_000 }: { startTimeoutMs?: number } = {},
): LocalCloudFixture {
  let cloud: LocalCloud | undefined;
  beforeAll(async () => {
    cloud = await LocalCloud.start({
      logLevel: 'WARN',
      ...(typeof options === 'function' ? options() : options),
    });
  }, startTimeoutMs);
  afterAll(async () => {
    await cloud?.stop();
  });
  return {
    get cloud(): LocalCloud {
      if (!cloud) throw new Error('the local cloud is not started (use it inside tests, after beforeAll)');
      return cloud;
    },
  };
}

/** The forward action's weights of a service's production route (listener, or rule), read from moto. */
export async function listenerWeights(
  cloud: LocalCloud,
  service: string,
): Promise<{ blue: number; green: number }> {
  const svc = serviceOf(cloud, service);
  const actions = svc.listener.ruleArn
    ? (await cloud.clients.elb.send(new DescribeRulesCommand({ RuleArns: [svc.listener.ruleArn] })))
        .Rules?.[0]?.Actions
    : (await cloud.clients.elb.send(new DescribeListenersCommand({ ListenerArns: [svc.listener.arn] })))
        .Listeners?.[0]?.DefaultActions;
  return weightsOf(actions ?? [], svc.targetGroups);
}

/** The forward action's weights of a service's test listener, read from moto. */
export async function testListenerWeights(
  cloud: LocalCloud,
  service: string,
): Promise<{ blue: number; green: number }> {
  const svc = serviceOf(cloud, service);
  if (!svc.testListener) throw new Error(`service ${service} has no test listener`);
  const out = await cloud.clients.elb.send(
    new DescribeListenersCommand({ ListenerArns: [svc.testListener.arn] }),
  );
  return weightsOf(out.Listeners?.[0]?.DefaultActions ?? [], svc.targetGroups);
}

/** The ECS service's task sets and which one is primary, read from moto. */
export async function taskSets(cloud: LocalCloud, service: string): Promise<TaskSet[]> {
  const svc = serviceOf(cloud, service);
  const out = await cloud.clients.ecs.send(
    new DescribeServicesCommand({ cluster: svc.cluster, services: [svc.ecsService] }),
  );
  return out.services?.[0]?.taskSets ?? [];
}

function serviceOf(cloud: LocalCloud, service: string) {
  const env = cloud.config.environments.find((e) => e.name === cloud.environment)!;
  const svc = env.services.find((s) => s.name === service);
  if (!svc) throw new Error(`no service ${service} in ${cloud.environment}`);
  return svc;
}

function weightsOf(
  actions: Action[],
  slots: { blue: string; green: string },
): { blue: number; green: number } {
  const groups = actions.find((a) => a.Type === 'forward')?.ForwardConfig?.TargetGroups ?? [];
  const weight = (arn: string) => groups.find((g) => g.TargetGroupArn === arn)?.Weight ?? 0;
  return { blue: weight(slots.blue), green: weight(slots.green) };
}
