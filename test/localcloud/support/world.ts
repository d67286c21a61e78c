/**
 * Given/When/Then helpers for tests of the engine in the local cloud: read what moto holds, make traffic.
 */
import { PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeServicesCommand } from '@aws-sdk/client-ecs';
import { DescribeListenersCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import {
  loadBalancerDimension,
  targetGroupDimension,
  type ServiceConfig,
} from '../../../lambdas/domain/config';
import type { LocalCloud } from '../../../localcloud';

export const serviceOf = (cloud: LocalCloud, name = 'checkout'): ServiceConfig =>
  cloud.config.environments.find((e) => e.name === cloud.environment)!.services.find((s) => s.name === name)!;

/** Listener weights by slot, as moto holds them. */
export async function weights(
  cloud: LocalCloud,
  service: ServiceConfig,
): Promise<{ blue: number; green: number }> {
  const out = await cloud.clients.elb.send(
    new DescribeListenersCommand({ ListenerArns: [service.listener.arn] }),
  );
  const groups = out.Listeners?.[0]?.DefaultActions?.[0]?.ForwardConfig?.TargetGroups ?? [];
  const w = (arn: string) => groups.find((g) => g.TargetGroupArn === arn)?.Weight ?? 0;
  return { blue: w(service.targetGroups.blue), green: w(service.targetGroups.green) };
}

export interface TaskSetView {
  readonly arn: string;
  readonly status: string;
  readonly scale: number;
  readonly slot: 'blue' | 'green' | undefined;
  readonly externalId?: string;
  readonly taskDefinition: string;
}

/** The service's task sets, as moto holds them. */
export async function taskSets(cloud: LocalCloud, service: ServiceConfig): Promise<TaskSetView[]> {
  const out = await cloud.clients.ecs.send(
    new DescribeServicesCommand({ cluster: service.cluster, services: [service.ecsService] }),
  );
  return (out.services?.[0]?.taskSets ?? []).map((t) => {
    const tg = t.loadBalancers?.[0]?.targetGroupArn;
    return {
      arn: t.taskSetArn!,
      status: t.status!,
      scale: t.scale?.value ?? 0,
      slot:
        tg === service.targetGroups.blue ? 'blue' : tg === service.targetGroups.green ? 'green' : undefined,
      externalId: t.externalId || undefined,
      taskDefinition: t.taskDefinition!,
    };
  });
}

/** Every item of the deployments table. */
export async function tableItems(cloud: LocalCloud): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  const doc = DynamoDBDocumentClient.from(cloud.clients.dynamodb);
  let start: Record<string, unknown> | undefined;
  do {
    const out = await doc.send(
      new ScanCommand({ TableName: cloud.deps.tableName, ExclusiveStartKey: start }),
    );
    items.push(...(out.Items ?? []));
    start = out.LastEvaluatedKey;
  } while (start);
  return items;
}

export const deploymentRecords = async (cloud: LocalCloud) =>
  (await tableItems(cloud)).filter((i) => i.kind === 'DEPLOYMENT');
export const rollbackRecords = async (cloud: LocalCloud) =>
  (await tableItems(cloud)).filter((i) => i.kind === 'ROLLBACK');

/**
 * Steady traffic for a test: each simulated minute, requests split by the listener weights read from moto, with
 * an error rate per slot, written to moto's CloudWatch as the ALB would.
 */
export function traffic(
  cloud: LocalCloud,
  service: ServiceConfig,
  errorRate: { blue: number; green: number },
  requestsPerMinute = 1000,
) {
  const errors = { ...errorRate };
  const stop = cloud.clock.onTick(async (now) => {
    const w = await weights(cloud, service);
    const total = w.blue + w.green || 1;
    for (const slot of ['blue', 'green'] as const) {
      const requests = Math.round((requestsPerMinute * w[slot]) / total);
      const dims = [
        { Name: 'TargetGroup', Value: targetGroupDimension(service.targetGroups[slot]) },
        { Name: 'LoadBalancer', Value: loadBalancerDimension(service.listener.arn) },
      ];
      await cloud.clients.cloudwatch.send(
        new PutMetricDataCommand({
          Namespace: 'AWS/ApplicationELB',
          MetricData: [
            { MetricName: 'RequestCount', Dimensions: dims, Value: requests, Timestamp: now },
            {
              MetricName: 'HTTPCode_Target_5XX_Count',
              Dimensions: dims,
              Value: Math.round(requests * errors[slot]),
              Timestamp: now,
            },
            { MetricName: 'UnHealthyHostCount', Dimensions: dims, Value: 0, Timestamp: now },
            { MetricName: 'HealthyHostCount', Dimensions: dims, Value: 2, Timestamp: now },
          ],
        }),
      );
    }
  });
  return { stop, set: (slot: 'blue' | 'green', rate: number) => (errors[slot] = rate) };
}

/**
 * moto answers 500 to percentile statistics in GetMetricData; the local cloud reads the per-minute latency it
 * publishes as Maximum instead. Added to the handlers' CloudWatch client.
 */
export function readPercentilesAsMaximum(cloud: LocalCloud): void {
  const client = cloud.depsFor('health-gate').cloudwatch;
  client.middlewareStack.add(
    (next) => async (args) => {
      const input = args.input as { MetricDataQueries?: { MetricStat?: { Stat?: string } }[] };
      for (const q of input.MetricDataQueries ?? []) {
        if (q.MetricStat?.Stat && /^p\d+(\.\d+)?$/.test(q.MetricStat.Stat)) q.MetricStat.Stat = 'Maximum';
      }
      return next(args);
    },
    { step: 'initialize', name: 'readPercentilesAsMaximum', override: true },
  );
}

/**
 * Polls until `check` returns a value, every 50 ms for at most 30 s (for work another actor finishes; a loaded
 * machine made 5 s too short).
 */
export async function eventually<T>(
  check: () => Promise<T | undefined>,
  what: string,
  attempts = 600,
): Promise<T> {
  for (let i = 0; i < attempts; i++) {
    const value = await check();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`gave up waiting for ${what}`);
}
