/** Names shared by the CDK stacks, the Lambdas, the CLI and the local cloud, so that they always agree. */
import type { EnvironmentConfig, ServiceConfig } from './config';

export type AlarmKind = 'error-rate' | 'latency' | 'unhealthy-hosts';

export const stackName = (project: string, env: string) => `${project}-${env}`;

export const stateMachineName = (project: string, env: string, kind: string) => `${project}-${env}-${kind}`;

export const alarmName = (env: string, service: string, kind: AlarmKind | string, slot?: 'blue' | 'green') =>
  `${service}-${env}-${kind}${slot ? `-${slot}` : ''}`;

export const ALARM_KINDS: readonly AlarmKind[] = ['error-rate', 'latency', 'unhealthy-hosts'];

/** Which of the stack's own alarm kinds the config turns on for a service. */
export function alarmKindsFor(service: ServiceConfig): AlarmKind[] {
  return ALARM_KINDS.filter((k) =>
    k === 'error-rate'
      ? service.alarms.errorRate
      : k === 'latency'
        ? service.alarms.latency
        : service.alarms.unhealthyHosts,
  );
}

/**
 * Every alarm that watches a service: the stack's own, one per kind and slot (the slots swap roles between
 * deployments, so each slot's target group has its own), and the extra ones the config names.
 */
export function alarmNamesFor(env: Pick<EnvironmentConfig, 'name'>, service: ServiceConfig): string[] {
  const names: string[] = [];
  for (const kind of alarmKindsFor(service)) {
    for (const slot of ['blue', 'green'] as const) names.push(alarmName(env.name, service.name, kind, slot));
  }
  for (const extra of service.alarms.extra) {
    names.push('alarmName' in extra ? extra.alarmName : alarmName(env.name, service.name, extra.name));
  }
  return names;
}
