/**
 * The CLI against the local cloud (`--local`): the project's own state machines and Lambda code against moto, in
 * simulated time. A command with `--local` starts a fresh cloud of its environment, with steady healthy traffic
 * on every service and the stack's alarms evaluated, and stops it when it ends: local state lasts one command.
 * Tests bind a `LocalBackend` to a cloud of their own instead, and run several commands against it.
 */
import { findEnvironment, type ProjectConfig } from '../../lambdas/domain/config';
import { LocalCloud } from '../../localcloud';
import { AlarmEvaluator, alarmsFromTemplate } from '../../localcloud/alarms';
import { parseScenario } from '../../localcloud/scenarios';
import { simulationCloudOptions } from '../../localcloud/simulation';
import { Workload } from '../../localcloud/workload';
import { UsageError } from '../context';
import { parseOutputs, type Backend, type Target } from './backend';

export interface LocalBackendOptions {
  /** Wall-clock milliseconds between two reads of something being followed. @default 100 */
  readonly pollMs?: number;
  /**
   * Environments whose stack this cloud's stack stands in for, besides its own. A test that runs a promotion's
   * home (the stack of its last environment) in a cloud of its first environment names them here.
   * @default none
   */
  readonly standsInFor?: readonly string[];
  /** Called by `close()`. @default nothing: whoever started the cloud stops it */
  readonly onClose?: () => Promise<void>;
  /** Whether the cloud lives for one command only (`--local`). @default false */
  readonly ephemeral?: boolean;
}

/** A backend bound to one running local cloud. */
export class LocalBackend implements Backend {
  constructor(
    readonly cloud: LocalCloud,
    private readonly options: LocalBackendOptions = {},
  ) {}

  async open(environment: string): Promise<Target> {
    const { cloud } = this;
    if (environment !== cloud.environment && !(this.options.standsInFor ?? []).includes(environment)) {
      throw new UsageError(
        `the local cloud of this command runs ${cloud.environment} only, not ${environment} (local state lasts one command)`,
      );
    }
    const env = findEnvironment(cloud.config, cloud.environment)!;
    const outputs = parseOutputs(
      cloud.controller.stackName,
      Object.fromEntries(Object.entries(cloud.controller.outputs).map(([k, v]) => [k, String(v)])),
    );
    const pollMs = this.options.pollMs ?? 100;
    return {
      kind: 'local',
      ephemeral: this.options.ephemeral ?? false,
      project: cloud.config.project,
      environment: env,
      stackName: cloud.controller.stackName,
      outputs,
      // The handlers' clients: the Step Functions one runs started executions and answers with their local status.
      deps: { ...cloud.deps, tableName: outputs.tableName },
      pause: () => new Promise((resolve) => setTimeout(resolve, pollMs)),
      consoleUrl: () => undefined,
    };
  }

  async close(): Promise<void> {
    await this.options.onClose?.();
  }
}

/** Steady traffic that the health gate can judge in every environment: production's canary needs 200 a window. */
const STEADY = parseScenario(
  {
    name: 'steady',
    description: 'Both versions answer well, at 10,000 requests a minute.',
    requestsPerMinute: 10_000,
  },
  'envctl --local',
);

/** Starts a fresh local cloud of one environment, with steady traffic and alarm evaluation, for one command. */
export async function startLocalBackend(config: ProjectConfig, environment: string): Promise<LocalBackend> {
  if (!findEnvironment(config, environment))
    throw new UsageError(`no environment "${environment}" in the config`);
  const cloud = await LocalCloud.start(simulationCloudOptions({ config, environment, scenario: STEADY }));
  try {
    const env = findEnvironment(cloud.config, environment)!;
    const workloads = await Promise.all(
      env.services.map((service) =>
        Workload.attach({ clock: cloud.clock, clients: cloud.clients, service, scenario: STEADY, seed: 1 }),
      ),
    );
    const evaluator = await AlarmEvaluator.attach({
      clock: cloud.clock,
      cloudwatch: cloud.clients.cloudwatch,
      publish: (event) => cloud.events.publish(event),
      alarms: alarmsFromTemplate(cloud.template),
      region: env.region,
      accountId: env.account,
    });
    return new LocalBackend(cloud, {
      ephemeral: true,
      onClose: async () => {
        evaluator.detach();
        for (const w of workloads) w.detach();
        await cloud.stop();
      },
    });
  } catch (err) {
    await cloud.stop();
    throw err;
  }
}
