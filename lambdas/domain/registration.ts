import * as z from 'zod';
import {
  approvalRequired,
  EnvironmentType,
  RollbackConfig,
  ServiceConfig,
  type EnvironmentConfig,
} from './config';

/**
 * What the stack registers for each managed service on every deploy: the service's validated config, the
 * environment's rollback settings and the names of the alarms that watch it. The Lambdas read this, never
 * the config file.
 */
export const ServiceRegistration = z.object({
  environment: z.string(),
  environmentType: EnvironmentType,
  service: ServiceConfig,
  rollback: RollbackConfig,
  approvalRequired: z.boolean(),
  /** Alarms whose ALARM state fails the health gate and triggers rollback. */
  alarmNames: z.array(z.string()),
});
export type ServiceRegistration = z.infer<typeof ServiceRegistration>;

export function registrationsFor(
  env: EnvironmentConfig,
  alarmNamesOf: (service: string) => string[],
): ServiceRegistration[] {
  return env.services.map((service) => ({
    environment: env.name,
    environmentType: env.type,
    service,
    rollback: env.rollback,
    approvalRequired: approvalRequired(env, service),
    alarmNames: alarmNamesOf(service.name),
  }));
}
