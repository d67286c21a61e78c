/** Names shared by the CDK stacks, the Lambdas, the CLI and the local cloud, so that they always agree. */
import type { EnvironmentConfig, ServiceConfig } from './config';

export type AlarmKind = 'error-rate' | 'latency' | 'unhealthy-hosts';

export const stackName = (project: string, env: string) => `${project}-${env}`;

export const stateMachineName = (project: string, env: string, kind: string) => `${project}-${env}-${kind}`;

export const alarmName = (env: string, service: string, kind: AlarmKind | string) => `${service}-${env}-${kind}`;

/** Every alarm that watches a service: the stack's own and the existing ones the config names. */
export function alarmNamesFor(env: Pick<EnvironmentConfig, 'name'>, service: ServiceConfig): string[] {
  const names: string[] = [];
  if (service.alarms.errorRate) names.push(alarmName(env.name, service.name, 'error-rate'));
  if (service.alarms.latency) names.push(alarmName(env.name, service.name, 'latency'));
  if (service.alarms.unhealthyHosts) names.push(alarmName(env.name, service.name, 'unhealthy-hosts'));
  for (const extra of service.alarms.extra) {
    names.push('alarmName' in extra ? extra.alarmName : alarmName(env.name, service.name, extra.name));
  }
  return names;
}
