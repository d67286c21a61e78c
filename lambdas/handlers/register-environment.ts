/**
 * CloudFormation custom resource (through the CDK Provider framework): writes the registration of each of the
 * environment's services to the table on every deploy that changes it, and removes services no longer declared.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import * as z from 'zod';
import { DeploymentStore } from '../adapters/deployment-store';
import { ServiceRegistration } from '../domain/registration';
import { requireEnv, systemClock, type Clock } from '../runtime/clients';
import { logger } from '../runtime/logger';
import type { Deps } from '../runtime/deps';

const Properties = z.object({
  Environment: z.string().min(1),
  /** JSON of ServiceRegistration[]: one string so that CloudFormation keeps numbers and booleans as they are. */
  Registrations: z.string(),
});

export interface RegisterEnvironmentDeps {
  readonly store: DeploymentStore;
  readonly clock: Clock;
}

function parse(props: unknown): { environment: string; registrations: ServiceRegistration[] } {
  const p = Properties.parse(props);
  return {
    environment: p.Environment,
    registrations: z.array(ServiceRegistration).parse(JSON.parse(p.Registrations)),
  };
}

/** The handler from the common deps (the local cloud and tests use this, like every other handler). */
export function make(deps: Deps) {
  return makeRegisterEnvironmentHandler({
    store: new DeploymentStore(deps.dynamodb, deps.tableName),
    clock: deps.clock,
  });
}

export function makeRegisterEnvironmentHandler(deps: RegisterEnvironmentDeps) {
  return async (
    event: CloudFormationCustomResourceEvent,
  ): Promise<{ PhysicalResourceId: string; Data: { Services: string } }> => {
    const { environment, registrations } = parse(event.ResourceProperties);
    const physicalId = `registration-${environment}`;
    const at = deps.clock.now().toISOString();
    const names = registrations.map((r) => r.service.name);
    if (event.RequestType === 'Delete') {
      await Promise.all(names.map((n) => deps.store.deleteRegistration(environment, n)));
      await Promise.all(registrations.flatMap((r) => r.alarmNames.map((a) => deps.store.deleteAlarm(a))));
      logger.info('registrations removed', { environment, services: names });
      return { PhysicalResourceId: physicalId, Data: { Services: '' } };
    }
    await Promise.all(registrations.map((r) => deps.store.putRegistration(r, at)));
    // Alarm name → service, so that an alarm event finds its service's active deployment in one read.
    await Promise.all(
      registrations.flatMap((r) =>
        r.alarmNames.map((a) => deps.store.putAlarm(a, environment, r.service.name)),
      ),
    );
    if (event.RequestType === 'Update') {
      const old = parse(event.OldResourceProperties);
      const removed = old.registrations.map((r) => r.service.name).filter((n) => !names.includes(n));
      await Promise.all(removed.map((n) => deps.store.deleteRegistration(old.environment, n)));
    }
    logger.info('registrations written', { environment, services: names });
    return { PhysicalResourceId: physicalId, Data: { Services: names.join(',') } };
  };
}

let cached: ReturnType<typeof makeRegisterEnvironmentHandler> | undefined;
export const handler = (event: CloudFormationCustomResourceEvent) =>
  (cached ??= makeRegisterEnvironmentHandler({
    store: new DeploymentStore(new DynamoDBClient({}), requireEnv('TABLE_NAME')),
    clock: systemClock,
  }))(event);
