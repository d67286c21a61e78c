/** Validates the execution input and the environment's readiness; records REJECTED when not. */
import { ECSClient } from '@aws-sdk/client-ecs';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { validate } from '../engine/validate';
import type { Strategy } from '../domain/config';
import { portsFrom, type MetricsRecorder } from '../engine/ports';
import type { Deps } from '../runtime/deps';
import { lambdaHandler } from '../runtime/handler';

export type Event = {
  strategy: Strategy;
  input: unknown;
  execution: { arn: string; name: string; startTime?: string };
};

export function make(deps: Deps, recorder?: MetricsRecorder) {
  const ports = portsFrom(deps, recorder);
  return (event: Event) => validate(ports, event);
}

export const handler = lambdaHandler(
  {
    ecs: () => new ECSClient({}),
    elb: () => new ElasticLoadBalancingV2Client({}),
    cloudwatch: () => new CloudWatchClient({}),
    dynamodb: () => new DynamoDBClient({}),
  },
  make,
);
