/**
 * What every handler is built from. In Lambda, `awsDeps` creates only the clients a handler asks for (so a bundle
 * holds only the SDK code it uses); the local cloud and tests pass clients pointed at moto and a simulated clock.
 */
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { ECSClient } from '@aws-sdk/client-ecs';
import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { SFNClient } from '@aws-sdk/client-sfn';
import type { SNSClient } from '@aws-sdk/client-sns';
import { systemClock, type Clock } from './clients';

export interface Deps {
  readonly ecs: ECSClient;
  readonly elb: ElasticLoadBalancingV2Client;
  readonly cloudwatch: CloudWatchClient;
  readonly dynamodb: DynamoDBClient;
  readonly sfn: SFNClient;
  readonly sns: SNSClient;
  /** The deployments table (TABLE_NAME). */
  readonly tableName: string;
  /** Deployment notifications (NOTIFICATION_TOPIC_ARN); absent: none are sent. */
  readonly notificationTopicArn?: string;
  /** Paging for rollbacks that failed (ALERT_TOPIC_ARN); absent: only logged. */
  readonly alertTopicArn?: string;
  readonly clock: Clock;
}

type ClientKey = 'ecs' | 'elb' | 'cloudwatch' | 'dynamodb' | 'sfn' | 'sns';

/**
 * Deps for a Lambda container: the given client factories, called once on first use; the rest from the
 * environment. Asking for a client the function was not given is a programming error, reported by name.
 */
export function awsDeps(factories: Partial<Record<ClientKey, () => unknown>>): Deps {
  const made: Partial<Record<ClientKey, unknown>> = {};
  const client = (key: ClientKey) => {
    const make = factories[key];
    if (!make) throw new Error(`this function was not given a ${key} client`);
    return (made[key] ??= make());
  };
  return {
    get ecs() {
      return client('ecs') as ECSClient;
    },
    get elb() {
      return client('elb') as ElasticLoadBalancingV2Client;
    },
    get cloudwatch() {
      return client('cloudwatch') as CloudWatchClient;
    },
    get dynamodb() {
      return client('dynamodb') as DynamoDBClient;
    },
    get sfn() {
      return client('sfn') as SFNClient;
    },
    get sns() {
      return client('sns') as SNSClient;
    },
    tableName: process.env.TABLE_NAME ?? '',
    notificationTopicArn: process.env.NOTIFICATION_TOPIC_ARN || undefined,
    alertTopicArn: process.env.ALERT_TOPIC_ARN || undefined,
    clock: systemClock,
  };
}

/** A Lambda handler built once per container from its deps on first invocation. */
export function lazyHandler<E, R>(build: () => (event: E) => Promise<R>): (event: E) => Promise<R> {
  let built: ((event: E) => Promise<R>) | undefined;
  return (event: E) => (built ??= build())(event);
}
