/** The manual rollback state machine's step: an operator's rollback, during or after a deployment. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECSClient } from '@aws-sdk/client-ecs';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import { portsFrom, type MetricsRecorder } from '../engine/ports';
import { onManualRollback } from '../engine/triggers';
import type { Deps } from '../runtime/deps';
import { lambdaHandler } from '../runtime/handler';

export type Event = { input: unknown; execution: { arn: string } };

export function make(deps: Deps, recorder?: MetricsRecorder) {
  const ports = portsFrom(deps, recorder);
  return (event: Event) => onManualRollback(ports, event.input, event.execution);
}

export const handler = lambdaHandler(
  {
    dynamodb: () => new DynamoDBClient({}),
    elb: () => new ElasticLoadBalancingV2Client({}),
    ecs: () => new ECSClient({}),
    sfn: () => new SFNClient({}),
    sns: () => new SNSClient({}),
  },
  make,
);
