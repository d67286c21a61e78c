/**
 * The ports the deployment engine works through, built from a handler's deps. Each is a narrow interface with an
 * SDK v3 adapter behind it; nothing here imports the SDK.
 */
import { CloudWatchMetricsReader, type MetricsReader } from '../adapters/metrics-reader';
import { DeploymentStore } from '../adapters/deployment-store';
import { EcsCapacityManager } from '../adapters/capacity';
import { ElbTrafficRouter, type TrafficRouter } from '../adapters/traffic-router';
import { SfnExecutionControl, type ExecutionControl } from '../adapters/executions';
import { SnsNotifier, type Notifier } from '../adapters/notifier';
import type { Clock } from '../runtime/clients';
import type { Deps } from '../runtime/deps';

/** Counts and durations the engine reports (Powertools Metrics in Lambda). */
export interface MetricsRecorder {
  count(name: string, value?: number): void;
  milliseconds(name: string, value: number): void;
}

export const noMetrics: MetricsRecorder = { count: () => undefined, milliseconds: () => undefined };

export interface Ports {
  readonly store: DeploymentStore;
  readonly router: TrafficRouter;
  readonly capacity: EcsCapacityManager;
  readonly metrics: MetricsReader;
  readonly executions: ExecutionControl;
  readonly notifier: Notifier;
  readonly recorder: MetricsRecorder;
  readonly clock: Clock;
}

/** Ports built on first use, so that a function creates only the clients it touches. */
export function portsFrom(deps: Deps, recorder: MetricsRecorder = noMetrics): Ports {
  const cache = new Map<string, unknown>();
  const once = <T>(key: string, make: () => T): T => {
    if (!cache.has(key)) cache.set(key, make());
    return cache.get(key) as T;
  };
  return {
    get store() {
      return once('store', () => new DeploymentStore(deps.dynamodb, deps.tableName));
    },
    get router() {
      return once('router', () => new ElbTrafficRouter(deps.elb));
    },
    get capacity() {
      return once('capacity', () => new EcsCapacityManager(deps.ecs));
    },
    get metrics() {
      return once('metrics', () => new CloudWatchMetricsReader(deps.cloudwatch));
    },
    get executions() {
      return once('executions', () => new SfnExecutionControl(deps.sfn));
    },
    get notifier() {
      return once('notifier', () => new SnsNotifier(deps.sns, deps.notificationTopicArn, deps.alertTopicArn));
    },
    recorder,
    clock: deps.clock,
  };
}
