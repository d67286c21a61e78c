/**
 * The deployment store: the one DynamoDB table behind a narrow interface. Takes its client from outside.
 */
import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { ServiceRegistration } from '../domain/registration';
import type {
  ActiveDeployment,
  DeploymentRecord,
  RollbackRecord,
  ServiceState,
  TimelineEntry,
  VersionRef,
} from '../domain/records';
import { TERMINAL_STATUSES } from '../domain/records';
import { LockHeldError, RecordNotFoundError } from '../domain/errors';
import { PROMOTION_TERMINAL_STATUSES, type PromotionRecord } from '../domain/promotion';
import { awsCall } from './aws-call';
import { keys, type RecordKind } from './table-schema';

export interface Page<T> {
  readonly items: T[];
  /** Opaque cursor for the next page; absent on the last page. */
  readonly next?: string;
}

/** An alarm's service; its active deployment while one holds the lock; how the last one ended. */
export interface AlarmItem {
  readonly environment: string;
  readonly service: string;
  readonly active?: ActiveDeployment;
  readonly ended?: { readonly deploymentId: string; readonly status: string; readonly at: string };
}

export interface ListOptions {
  readonly limit?: number;
  readonly cursor?: string;
}

export class DeploymentStore {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
  ) {
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  /** Every table call: throttling and 5xx become TransientAwsError (retried by the state machines). */
  private readonly send = ((command: Parameters<DynamoDBDocumentClient['send']>[0]) =>
    awsCall(() => this.doc.send(command))) as DynamoDBDocumentClient['send'];

  // ---- registrations -------------------------------------------------------------------------------

  async putRegistration(reg: ServiceRegistration, at: string): Promise<void> {
    await this.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          ...keys.registration(reg.environment, reg.service.name),
          kind: 'REGISTRATION',
          registration: reg,
          registeredAt: at,
        },
      }),
    );
  }

  async deleteRegistration(env: string, service: string): Promise<void> {
    await this.send(new DeleteCommand({ TableName: this.tableName, Key: keys.registration(env, service) }));
  }

  async getRegistration(env: string, service: string): Promise<ServiceRegistration | undefined> {
    const out = await this.send(
      new GetCommand({ TableName: this.tableName, Key: keys.registration(env, service) }),
    );
    return out.Item ? ServiceRegistration.parse(out.Item.registration) : undefined;
  }

  async listRegistrations(env: string): Promise<ServiceRegistration[]> {
    const k = keys.registrationPrefix(env);
    const items: ServiceRegistration[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await this.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :sk)',
          ExpressionAttributeValues: { ':pk': k.pk, ':sk': k.skPrefix },
          ExclusiveStartKey: start,
        }),
      );
      for (const item of out.Items ?? []) items.push(ServiceRegistration.parse(item.registration));
      start = out.LastEvaluatedKey;
    } while (start);
    return items;
  }

  // ---- service state and lock ----------------------------------------------------------------------

  async getServiceState(env: string, service: string): Promise<ServiceState | undefined> {
    const out = await this.send(
      new GetCommand({
        TableName: this.tableName,
        Key: keys.serviceState(env, service),
        ConsistentRead: true,
      }),
    );
    return out.Item ? (stripKeys(out.Item) as unknown as ServiceState) : undefined;
  }

  /**
   * Takes the service's lock for one execution with a conditional write, and marks the service's alarms with the
   * active deployment, in one transaction. Taking it again for the same execution succeeds (a retried step); any
   * other holder makes it throw LockHeldError and changes nothing.
   */
  async acquireLock(lock: ActiveDeployment): Promise<void> {
    try {
      await this.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: this.tableName,
                Key: keys.serviceState(lock.environment, lock.service),
                UpdateExpression: 'SET #lock = :lock, environment = :env, service = :svc, updatedAt = :at',
                ConditionExpression: 'attribute_not_exists(#lock) OR #lock.executionArn = :arn',
                ExpressionAttributeNames: { '#lock': 'lock' },
                ExpressionAttributeValues: {
                  ':lock': lock,
                  ':env': lock.environment,
                  ':svc': lock.service,
                  ':at': lock.acquiredAt,
                  ':arn': lock.executionArn,
                },
              },
            },
            ...lock.alarmNames.map((name) => ({
              Update: {
                TableName: this.tableName,
                Key: keys.alarm(name),
                UpdateExpression: 'SET active = :lock, environment = :env, service = :svc',
                ExpressionAttributeValues: { ':lock': lock, ':env': lock.environment, ':svc': lock.service },
              },
            })),
          ],
        }),
      );
    } catch (err) {
      if (cancelledByCondition(err, 0)) {
        const state = await this.getServiceState(lock.environment, lock.service);
        throw new LockHeldError(lock.environment, lock.service, state?.lock?.deploymentId ?? 'unknown', {
          cause: err,
        });
      }
      throw err;
    }
  }

  /**
   * Releases the lock if this execution holds it, and clears the alarms' active mark; returns whether it did.
   * Releasing twice is harmless.
   */
  async releaseLock(
    lock: Pick<ActiveDeployment, 'environment' | 'service' | 'executionArn' | 'alarmNames'>,
    at: string,
  ): Promise<boolean> {
    try {
      await this.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: this.tableName,
                Key: keys.serviceState(lock.environment, lock.service),
                UpdateExpression: 'REMOVE #lock SET updatedAt = :at',
                ConditionExpression: '#lock.executionArn = :arn',
                ExpressionAttributeNames: { '#lock': 'lock' },
                ExpressionAttributeValues: { ':arn': lock.executionArn, ':at': at },
              },
            },
            ...this.clearAlarms(lock.alarmNames, lock.executionArn),
          ],
        }),
      );
      return true;
    } catch (err) {
      if (cancelledByCondition(err, 0)) return false;
      throw err;
    }
  }

  /** The alarm's service and, while a deployment is active, what is needed to restore its traffic. */
  async getAlarm(name: string): Promise<AlarmItem | undefined> {
    const out = await this.send(
      new GetCommand({ TableName: this.tableName, Key: keys.alarm(name), ConsistentRead: true }),
    );
    return out.Item ? (stripKeys(out.Item) as unknown as AlarmItem) : undefined;
  }

  async putAlarm(name: string, environment: string, service: string): Promise<void> {
    await this.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: keys.alarm(name),
        UpdateExpression: 'SET environment = :env, service = :svc, kind = :kind',
        ExpressionAttributeValues: { ':env': environment, ':svc': service, ':kind': 'ALARM' },
      }),
    );
  }

  async deleteAlarm(name: string): Promise<void> {
    await this.send(new DeleteCommand({ TableName: this.tableName, Key: keys.alarm(name) }));
  }

  /**
   * Clears the alarms' active mark; when the deployment ended, remembers how (`ended`), so that alarms of the
   * same incident arriving after the rollback are known as handled without a second record.
   */
  private clearAlarms(alarmNames: readonly string[], executionArn: string, ended?: AlarmItem['ended']) {
    return alarmNames.map((name) => ({
      Update: {
        TableName: this.tableName,
        Key: keys.alarm(name),
        UpdateExpression: ended ? 'REMOVE active SET ended = :ended' : 'REMOVE active',
        // Only our own mark; the record's or lock's condition in the same transaction guards the rest.
        ConditionExpression: 'attribute_not_exists(active) OR active.executionArn = :arn',
        ExpressionAttributeValues: { ':arn': executionArn, ...(ended ? { ':ended': ended } : {}) },
      },
    }));
  }

  /** Records the serving version (first registration of a service, or after a successful deployment). */
  async setStable(
    env: string,
    service: string,
    stable: VersionRef,
    previous: ServiceState['previous'] | null,
    at: string,
  ): Promise<void> {
    await this.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: keys.serviceState(env, service),
        UpdateExpression: previous
          ? 'SET stable = :stable, previous = :prev, environment = :env, service = :svc, updatedAt = :at'
          : 'SET stable = :stable, environment = :env, service = :svc, updatedAt = :at REMOVE previous',
        ExpressionAttributeValues: {
          ':stable': stable,
          ':env': env,
          ':svc': service,
          ':at': at,
          ...(previous ? { ':prev': previous } : {}),
        },
      }),
    );
  }

  async clearPrevious(env: string, service: string, at: string): Promise<void> {
    await this.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: keys.serviceState(env, service),
        UpdateExpression: 'REMOVE previous SET updatedAt = :at',
        ExpressionAttributeValues: { ':at': at },
      }),
    );
  }

  // ---- deployments ---------------------------------------------------------------------------------

  /** Creates the record once; a retried step that finds it already there gets the existing record back. */
  async createDeployment(record: DeploymentRecord): Promise<DeploymentRecord> {
    return this.putOnce(
      {
        ...keys.deployment(record.deploymentId),
        ...keys.listing(
          'DEPLOYMENT',
          record.environment,
          record.service,
          record.startedAt,
          record.deploymentId,
        ),
        kind: 'DEPLOYMENT',
        ...record,
      },
      record,
      () => this.getDeployment(record.deploymentId),
    );
  }

  async getDeployment(id: string): Promise<DeploymentRecord | undefined> {
    const out = await this.send(
      new GetCommand({ TableName: this.tableName, Key: keys.deployment(id), ConsistentRead: true }),
    );
    return out.Item ? (stripKeys(out.Item) as unknown as DeploymentRecord) : undefined;
  }

  async requireDeployment(id: string): Promise<DeploymentRecord> {
    const record = await this.getDeployment(id);
    if (!record) throw new RecordNotFoundError(`deployment ${id}`);
    return record;
  }

  /**
   * Applies a patch and appends to the timeline, only while the record is not terminal (a terminal record is
   * never changed again). Returns the record after the update, or undefined when it was already terminal.
   */
  async updateDeployment(
    id: string,
    patch: Partial<Omit<DeploymentRecord, 'deploymentId' | 'timeline'>>,
    timeline: readonly TimelineEntry[] = [],
    options: { allowTerminal?: boolean; remove?: readonly string[] } = {},
  ): Promise<DeploymentRecord | undefined> {
    const { names, values, sets } = patchClause(patch, timeline);
    const removes = (options.remove ?? []).map((k, i) => {
      names[`#r${i}`] = k;
      return `#r${i}`;
    });
    let condition = 'attribute_exists(pk)';
    if (!options.allowTerminal) {
      names['#status'] = 'status';
      Object.assign(values, TERMINAL_VALUES);
      condition += ` AND ${NOT_TERMINAL}`;
    }
    try {
      const out = await this.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.deployment(id),
          UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
          ConditionExpression: condition,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return stripKeys(out.Attributes ?? {}) as unknown as DeploymentRecord;
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return undefined;
      throw err;
    }
  }

  /**
   * Ends a deployment in one transaction: the record's terminal status and the lock's release happen together,
   * so there is never a terminal record with a held lock or a released lock with a live record.
   * Returns false when the record was already terminal (another path ended it first).
   */
  async finishDeployment(
    record: Pick<DeploymentRecord, 'deploymentId' | 'environment' | 'service' | 'executionArn'> & {
      alarmNames: readonly string[];
    },
    patch: Partial<DeploymentRecord> & { status: DeploymentRecord['status']; endedAt: string },
    timeline: readonly TimelineEntry[],
    serviceUpdate?: { stable: VersionRef; previous?: ServiceState['previous'] },
  ): Promise<boolean> {
    const { names, values, sets } = patchClause(patch, timeline);
    names['#status'] = 'status';
    Object.assign(values, TERMINAL_VALUES);
    const stateNames: Record<string, string> = { '#lock': 'lock' };
    const stateValues: Record<string, unknown> = { ':arn': record.executionArn, ':at': patch.endedAt };
    let stateUpdate = 'REMOVE #lock SET updatedAt = :at';
    if (serviceUpdate) {
      stateValues[':stable'] = serviceUpdate.stable;
      stateUpdate += ', stable = :stable';
      if (serviceUpdate.previous) {
        stateValues[':prev'] = serviceUpdate.previous;
        stateUpdate += ', previous = :prev';
      }
    }
    try {
      await this.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: this.tableName,
                Key: keys.deployment(record.deploymentId),
                UpdateExpression: `SET ${sets.join(', ')}`,
                ConditionExpression: `attribute_exists(pk) AND ${NOT_TERMINAL}`,
                ExpressionAttributeNames: names,
                ExpressionAttributeValues: values,
              },
            },
            {
              Update: {
                TableName: this.tableName,
                Key: keys.serviceState(record.environment, record.service),
                UpdateExpression: stateUpdate,
                ExpressionAttributeNames: stateNames,
                ExpressionAttributeValues: stateValues,
                // Release only our own lock; if someone else holds it (never expected) leave it untouched.
                ConditionExpression: 'attribute_not_exists(#lock) OR #lock.executionArn = :arn',
              },
            },
            ...this.clearAlarms(record.alarmNames, record.executionArn, {
              deploymentId: record.deploymentId,
              status: patch.status,
              at: patch.endedAt,
            }),
          ],
        }),
      );
      return true;
    } catch (err) {
      if (cancelledByCondition(err, 0)) return false;
      throw err;
    }
  }

  /**
   * Claims a deployment's rollback for one owner: only one of several concurrent triggers (alarms, the state
   * machine, the reconciler) wins; the same owner claiming again (a retry) wins again. Returns the record, or
   * undefined when another owner has it or the deployment already ended.
   */
  async claimRollback(
    id: string,
    owner: string,
    patch: Partial<DeploymentRecord>,
    entry: TimelineEntry,
  ): Promise<DeploymentRecord | undefined> {
    const { names, values, sets } = patchClause(patch, [entry]);
    Object.assign(names, { '#status': 'status', '#owner': 'rollbackOwner' });
    Object.assign(values, {
      ':rb': 'ROLLING_BACK',
      ':ip': 'IN_PROGRESS',
      ':aa': 'AWAITING_APPROVAL',
      ':owner': owner,
    });
    sets.push('#status = :rb', '#owner = :owner');
    try {
      const out = await this.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.deployment(id),
          UpdateExpression: `SET ${sets.join(', ')}`,
          ConditionExpression: '#status IN (:ip, :aa) OR (#status = :rb AND #owner = :owner)',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return stripKeys(out.Attributes ?? {}) as unknown as DeploymentRecord;
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return undefined;
      throw err;
    }
  }

  async listDeployments(
    env: string,
    service: string | undefined,
    options: ListOptions = {},
  ): Promise<Page<DeploymentRecord>> {
    return this.list('DEPLOYMENT', env, service, options) as Promise<Page<DeploymentRecord>>;
  }

  // ---- rollbacks -----------------------------------------------------------------------------------

  async putRollback(record: RollbackRecord): Promise<void> {
    await this.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          ...keys.rollback(record.rollbackId),
          ...keys.listing(
            'ROLLBACK',
            record.environment,
            record.service,
            record.startedAt,
            record.rollbackId,
          ),
          kind: 'ROLLBACK',
          ...record,
        },
      }),
    );
  }

  async getRollback(id: string): Promise<RollbackRecord | undefined> {
    const out = await this.send(
      new GetCommand({ TableName: this.tableName, Key: keys.rollback(id), ConsistentRead: true }),
    );
    return out.Item ? (stripKeys(out.Item) as unknown as RollbackRecord) : undefined;
  }

  async listRollbacks(
    env: string,
    service: string | undefined,
    options: ListOptions = {},
  ): Promise<Page<RollbackRecord>> {
    return this.list('ROLLBACK', env, service, options) as Promise<Page<RollbackRecord>>;
  }

  // ---- idempotency -----------------------------------------------------------------------------------

  /**
   * Claims an event id once: true for the first claim, false for a duplicate delivery. The item expires by TTL.
   */
  async claimEvent(id: string, expiresAt: number, detail: Record<string, unknown> = {}): Promise<boolean> {
    try {
      await this.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...keys.event(id), kind: 'EVENT', expiresAt, ...detail },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return true;
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return false;
      throw err;
    }
  }

  /**
   * Keeps a malformed event that a function dropped, with the reason, for a while: dropped, not lost.
   */
  async putDroppedEvent(
    handler: string,
    reason: string,
    event: unknown,
    at: string,
    expiresAt: number,
  ): Promise<void> {
    const text = JSON.stringify(event) ?? 'undefined';
    await this.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          pk: `DROPPED#${handler}`,
          sk: `${at}#${Math.random().toString(36).slice(2, 10)}`,
          kind: 'DROPPED_EVENT',
          handler,
          reason,
          at,
          event: text.length > 8_000 ? `${text.slice(0, 8_000)}…` : text,
          expiresAt,
        },
      }),
    );
  }

  /**
   * Writes an item only if its key is free; a retried step that finds it already there gets the stored record
   * back instead of an error.
   */
  private async putOnce<T>(
    item: Record<string, unknown>,
    record: T,
    existing: () => Promise<T | undefined>,
  ): Promise<T> {
    try {
      await this.send(
        new PutCommand({
          TableName: this.tableName,
          Item: item,
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return record;
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) {
        const stored = await existing();
        if (stored) return stored;
      }
      throw err;
    }
  }

  private async list(
    kind: RecordKind,
    env: string,
    service: string | undefined,
    options: ListOptions,
  ): Promise<Page<unknown>> {
    const byService = service !== undefined;
    const out = await this.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: byService ? 'byService' : 'byEnvironmentKind',
        KeyConditionExpression: byService ? 'gsi1pk = :pk' : 'gsi3pk = :pk',
        ExpressionAttributeValues: { ':pk': byService ? `${env}#${service}#${kind}` : `${env}#${kind}` },
        ScanIndexForward: false,
        Limit: options.limit ?? 20,
        ExclusiveStartKey: options.cursor
          ? JSON.parse(Buffer.from(options.cursor, 'base64url').toString('utf8'))
          : undefined,
      }),
    );
    return {
      items: (out.Items ?? []).map(stripKeys),
      ...(out.LastEvaluatedKey
        ? { next: Buffer.from(JSON.stringify(out.LastEvaluatedKey)).toString('base64url') }
        : {}),
    };
  }

  // ---- promotions ------------------------------------------------------------------------------------
  // The promotion pipeline's one item per promotion (PROMOTION#id, RECORD), kept apart from the deployments:
  // it links each environment's deployment by id. Written by the promote-step function and the approval
  // decision only.

  /** Creates the promotion's record once; a retried step that finds it already there gets it back. */
  async createPromotion(record: PromotionRecord): Promise<PromotionRecord> {
    return this.putOnce({ ...promotionKey(record.promotionId), kind: 'PROMOTION', ...record }, record, () =>
      this.getPromotion(record.promotionId),
    );
  }

  async getPromotion(id: string): Promise<PromotionRecord | undefined> {
    const out = await this.send(
      new GetCommand({ TableName: this.tableName, Key: promotionKey(id), ConsistentRead: true }),
    );
    return out.Item ? (stripKeys(out.Item) as unknown as PromotionRecord) : undefined;
  }

  /**
   * Applies a patch and appends to the timeline while the promotion has not ended (and, with `whenStatus`, only
   * while its status is that one). Returns the record after the update, or undefined when the condition failed.
   */
  async updatePromotion(
    id: string,
    patch: Partial<Omit<PromotionRecord, 'promotionId' | 'timeline'>>,
    timeline: readonly TimelineEntry[] = [],
    options: { whenStatus?: PromotionRecord['status'] } = {},
  ): Promise<PromotionRecord | undefined> {
    const { names, values, sets } = patchClause(patch, timeline);
    names['#status'] = 'status';
    Object.assign(values, PROMOTION_TERMINAL_VALUES);
    let condition = `attribute_exists(pk) AND ${PROMOTION_NOT_TERMINAL}`;
    if (options.whenStatus) {
      values[':whenStatus'] = options.whenStatus;
      condition += ' AND #status = :whenStatus';
    }
    try {
      const out = await this.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: promotionKey(id),
          UpdateExpression: `SET ${sets.join(', ')}`,
          ConditionExpression: condition,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return stripKeys(out.Attributes ?? {}) as unknown as PromotionRecord;
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return undefined;
      throw err;
    }
  }
}

const promotionKey = (id: string) => ({ pk: `PROMOTION#${id}`, sk: 'RECORD' });
const PROMOTION_TERMINAL_VALUES = Object.fromEntries(
  PROMOTION_TERMINAL_STATUSES.map((status, i) => [`:pt${i}`, status]),
);
const PROMOTION_NOT_TERMINAL = `NOT #status IN (${Object.keys(PROMOTION_TERMINAL_VALUES).join(', ')})`;

const TERMINAL_VALUES = Object.fromEntries(TERMINAL_STATUSES.map((status, i) => [`:t${i}`, status]));
const NOT_TERMINAL = `NOT #status IN (${Object.keys(TERMINAL_VALUES).join(', ')})`;

/** The SET clause for a record patch plus timeline entries appended, with its names and values. */
function patchClause(patch: object, timeline: readonly TimelineEntry[]) {
  const names: Record<string, string> = { '#timeline': 'timeline' };
  const values: Record<string, unknown> = { ':entries': timeline, ':empty': [] };
  const sets = ['#timeline = list_append(if_not_exists(#timeline, :empty), :entries)'];
  Object.entries(patch).forEach(([k, v], i) => {
    if (v === undefined) return;
    names[`#f${i}`] = k;
    values[`:v${i}`] = v;
    sets.push(`#f${i} = :v${i}`);
  });
  return { names, values, sets };
}

/** Whether a transaction was cancelled because the condition of item `index` failed. */
function cancelledByCondition(err: unknown, index: number): boolean {
  if ((err as { name?: string }).name !== 'TransactionCanceledException') return false;
  const reasons = (err as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? [];
  return reasons[index]?.Code === 'ConditionalCheckFailed';
}

function stripKeys(item: Record<string, unknown>): Record<string, unknown> {
  const {
    pk: _pk,
    sk: _sk,
    gsi1pk: _a,
    gsi1sk: _b,
    gsi2pk: _c,
    gsi2sk: _d,
    gsi3pk: _e,
    gsi3sk: _f,
    kind: _k,
    ...rest
  } = item;
  return rest;
}
