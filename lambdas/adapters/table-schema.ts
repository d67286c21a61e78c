/**
 * The one DynamoDB table's key design, shared by the CDK construct that creates it and the store adapter
 * that reads and writes it. Every access pattern in ARCHITECTURE.md is one GetItem or one Query:
 *
 * | access pattern                                   | operation                                   |
 * |--------------------------------------------------|---------------------------------------------|
 * | service state and its lock                       | GetItem pk=SERVICE#env#svc, sk=STATE        |
 * | a deployment by id                               | GetItem pk=DEPLOYMENT#id, sk=RECORD         |
 * | deployments of a service, newest first           | Query byService gsi1pk=env#svc#DEPLOYMENT   |
 * | rollbacks of a service, newest first             | Query byService gsi1pk=env#svc#ROLLBACK     |
 * | everything in an environment, newest first       | Query byEnvironment gsi2pk=env              |
 * | rollbacks (or deployments) of an environment     | Query byEnvironmentKind gsi3pk=env#ROLLBACK |
 * | the registration of each service in an env       | GetItem / Query pk=ENV#env, sk=REGISTRATION#svc |
 * | an event already handled (idempotency)           | conditional Put pk=EVENT#id, expires by TTL |
 * | an alarm's service and active deployment         | GetItem pk=ALARM#name, sk=ALARM             |
 */
export const TABLE_KEYS = {
  partitionKey: 'pk',
  sortKey: 'sk',
  ttl: 'expiresAt',
} as const;

export const TABLE_INDEXES = [
  { indexName: 'byService', partitionKey: 'gsi1pk', sortKey: 'gsi1sk' },
  { indexName: 'byEnvironment', partitionKey: 'gsi2pk', sortKey: 'gsi2sk' },
  { indexName: 'byEnvironmentKind', partitionKey: 'gsi3pk', sortKey: 'gsi3sk' },
] as const;

export type RecordKind = 'DEPLOYMENT' | 'ROLLBACK';

export const keys = {
  serviceState: (env: string, service: string) => ({ pk: `SERVICE#${env}#${service}`, sk: 'STATE' }),
  deployment: (id: string) => ({ pk: `DEPLOYMENT#${id}`, sk: 'RECORD' }),
  rollback: (id: string) => ({ pk: `ROLLBACK#${id}`, sk: 'RECORD' }),
  registration: (env: string, service: string) => ({ pk: `ENV#${env}`, sk: `REGISTRATION#${service}` }),
  registrationPrefix: (env: string) => ({ pk: `ENV#${env}`, skPrefix: 'REGISTRATION#' }),
  event: (id: string) => ({ pk: `EVENT#${id}`, sk: 'EVENT' }),
  /** Alarm name → its service, and the service's active deployment while one holds the lock (the rollback's one read). */
  alarm: (name: string) => ({ pk: `ALARM#${name}`, sk: 'ALARM' }),
  /** Index attributes of a deployment or rollback record, so that each listing is one Query. */
  listing: (kind: RecordKind, env: string, service: string, at: string, id: string) => ({
    gsi1pk: `${env}#${service}#${kind}`,
    gsi1sk: `${at}#${id}`,
    gsi2pk: env,
    gsi2sk: `${at}#${kind}#${id}`,
    gsi3pk: `${env}#${kind}`,
    gsi3sk: `${at}#${id}`,
  }),
};
