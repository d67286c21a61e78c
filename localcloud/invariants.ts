/**
 * The promises the system keeps, checked against what moto and the table hold after a run (faulted or not).
 * Each violation is a sentence; none means every promise held.
 */
import { DescribeServicesCommand } from '@aws-sdk/client-ecs';
import { DescribeListenersCommand, DescribeRulesCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { TERMINAL_STATUSES } from '../lambdas/domain/records';
import type { LocalCloud } from './index';

export interface RunRef {
  /** The execution name, which is the deployment id. */
  readonly name: string;
  readonly status: string;
}

export async function checkInvariants(cloud: LocalCloud, runs: readonly RunRef[]): Promise<string[]> {
  const violations: string[] = [];
  const env = cloud.config.environments.find((e) => e.name === cloud.environment)!;
  const items = await scan(cloud);
  const running = new Set(runs.filter((r) => r.status === 'RUNNING').map((r) => r.name));

  for (const service of env.services) {
    // Listener weights sum to 100 and sit on one version.
    const weights = await listenerWeights(cloud, service.listener);
    const blue = weights.get(service.targetGroups.blue) ?? 0;
    const green = weights.get(service.targetGroups.green) ?? 0;
    if (blue + green !== 100)
      violations.push(`${service.name}: listener weights sum to ${blue + green}, not 100`);
    if (blue !== 100 && green !== 100)
      violations.push(`${service.name}: traffic split ${blue}/${green} after the runs ended`);
    const serving = blue === 100 ? service.targetGroups.blue : service.targetGroups.green;

    // One task set left, primary, behind the slot that takes the traffic.
    const out = await cloud.clients.ecs.send(
      new DescribeServicesCommand({ cluster: service.cluster, services: [service.ecsService] }),
    );
    const sets = out.services?.[0]?.taskSets ?? [];
    if (sets.length !== 1) violations.push(`${service.name}: ${sets.length} task sets left, expected 1`);
    const primary = sets.find((t) => t.status === 'PRIMARY');
    if (!primary) violations.push(`${service.name}: no primary task set`);
    else if (primary.loadBalancers?.[0]?.targetGroupArn !== serving) {
      violations.push(
        `${service.name}: the primary task set is not behind the target group that takes the traffic`,
      );
    }

    // No lock without a running execution.
    const state = items.find((i) => i.pk === `SERVICE#${env.name}#${service.name}` && i.sk === 'STATE');
    const lock = state?.lock as { deploymentId?: string } | undefined;
    if (lock && !running.has(lock.deploymentId ?? ''))
      violations.push(`${service.name}: lock held by ${lock.deploymentId} with no running execution`);
  }

  for (const alarm of items.filter((i) => i.kind === 'ALARM' && i.active)) {
    const active = alarm.active as { deploymentId?: string };
    if (!running.has(active.deploymentId ?? ''))
      violations.push(`alarm ${String(alarm.pk).slice(6)} still marks ${active.deploymentId} active`);
  }

  const deployments = items.filter((i) => i.kind === 'DEPLOYMENT');
  for (const run of runs.filter((r) => r.status !== 'RUNNING')) {
    const records = deployments.filter((d) => d.deploymentId === run.name);
    if (records.length !== 1) {
      violations.push(`execution ${run.name} has ${records.length} deployment records, expected exactly 1`);
      continue;
    }
    const status = records[0]!.status as string;
    if (!(TERMINAL_STATUSES as readonly string[]).includes(status))
      violations.push(`deployment ${run.name} ended ${run.status} but its record is ${status}`);
    if (
      (status === 'ROLLED_BACK' || status === 'FAILED') &&
      !items.some((i) => i.kind === 'ROLLBACK' && i.deploymentId === run.name)
    ) {
      violations.push(`deployment ${run.name} is ${status} with no rollback record`);
    }
  }
  return violations;
}

async function listenerWeights(
  cloud: LocalCloud,
  listener: { arn: string; ruleArn?: string },
): Promise<Map<string, number>> {
  const actions = listener.ruleArn
    ? (await cloud.clients.elb.send(new DescribeRulesCommand({ RuleArns: [listener.ruleArn] }))).Rules?.[0]
        ?.Actions
    : (await cloud.clients.elb.send(new DescribeListenersCommand({ ListenerArns: [listener.arn] })))
        .Listeners?.[0]?.DefaultActions;
  const groups = actions?.find((a) => a.Type === 'forward')?.ForwardConfig?.TargetGroups ?? [];
  return new Map(groups.map((g) => [g.TargetGroupArn!, g.Weight ?? 0]));
}

async function scan(cloud: LocalCloud): Promise<Record<string, unknown>[]> {
  const doc = DynamoDBDocumentClient.from(cloud.clients.dynamodb);
  const items: Record<string, unknown>[] = [];
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
