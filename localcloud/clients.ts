/**
 * AWS SDK v3 clients pointed at moto: the ones the handlers get through `Deps`, and the ones the local cloud
 * itself uses to provision and to deliver events.
 */
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECSClient } from '@aws-sdk/client-ecs';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Clock } from '../lambdas/runtime/clients';
import type { Deps } from '../lambdas/runtime/deps';

export interface LocalClientOptions {
  /** moto's endpoint, `http://127.0.0.1:<port>`. */
  readonly endpoint: string;
  /** The region every client signs for. */
  readonly region: string;
  /** SDK attempts per call. @default 1: a fault in a test shows at once instead of after backoff */
  readonly maxAttempts?: number;
}

/** The client configuration every local client shares: endpoint, region, dummy credentials, attempts. */
export function localClientConfig(options: LocalClientOptions) {
  return {
    endpoint: options.endpoint,
    region: options.region,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    maxAttempts: options.maxAttempts ?? 1,
  };
}

/** Every client the handlers and the local cloud use, all pointed at one moto server. */
export interface LocalClients {
  readonly ecs: ECSClient;
  readonly elb: ElasticLoadBalancingV2Client;
  readonly cloudwatch: CloudWatchClient;
  readonly dynamodb: DynamoDBClient;
  readonly sfn: SFNClient;
  readonly sns: SNSClient;
  readonly eventbridge: EventBridgeClient;
  readonly sqs: SQSClient;
  readonly cloudformation: CloudFormationClient;
}

export function localClients(options: LocalClientOptions): LocalClients {
  const config = localClientConfig(options);
  return {
    ecs: new ECSClient(config),
    elb: new ElasticLoadBalancingV2Client(config),
    cloudwatch: new CloudWatchClient(config),
    dynamodb: new DynamoDBClient(config),
    sfn: new SFNClient(config),
    sns: new SNSClient(config),
    eventbridge: new EventBridgeClient(config),
    sqs: new SQSClient(config),
    cloudformation: new CloudFormationClient(config),
  };
}

/** Closes every client's connection pool (keep-alive sockets would otherwise hold the process open). */
export function destroyClients(clients: LocalClients): void {
  for (const client of Object.values(clients) as { destroy(): void }[]) client.destroy();
}

export type LocalDepsOptions = {
  /** The deployments table's physical name in moto. */
  readonly tableName: string;
  readonly clock: Clock;
  readonly notificationTopicArn?: string;
  readonly alertTopicArn?: string;
} & ({ readonly clients: LocalClients } | LocalClientOptions);

/** The `Deps` a handler's `make(deps)` receives in the local cloud: moto clients and the simulated clock. */
export function localDeps(options: LocalDepsOptions): Deps {
  const clients = 'clients' in options ? options.clients : localClients(options);
  return {
    ecs: clients.ecs,
    elb: clients.elb,
    cloudwatch: clients.cloudwatch,
    dynamodb: clients.dynamodb,
    sfn: clients.sfn,
    sns: clients.sns,
    tableName: options.tableName,
    clock: options.clock,
    ...(options.notificationTopicArn ? { notificationTopicArn: options.notificationTopicArn } : {}),
    ...(options.alertTopicArn ? { alertTopicArn: options.alertTopicArn } : {}),
  };
}
