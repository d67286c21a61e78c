/** The clients of every function that restores traffic (rollback, manual rollback, reconcile): one list. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECSClient } from '@aws-sdk/client-ecs';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import type { ClientFactories } from './handler';

export const ROLLBACK_CLIENTS: ClientFactories = {
  dynamodb: () => new DynamoDBClient({}),
  elb: () => new ElasticLoadBalancingV2Client({}),
  ecs: () => new ECSClient({}),
  sfn: () => new SFNClient({}),
  sns: () => new SNSClient({}),
};
