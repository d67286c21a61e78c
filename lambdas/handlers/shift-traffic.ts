/** Applies a traffic step: capacity, listener weights, capacity. */
import { ECSClient } from '@aws-sdk/client-ecs';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { shiftTraffic } from '../engine/steps';
import type { DeploymentContext } from '../engine/context';
import { portsFrom, type MetricsRecorder } from '../engine/ports';
import type { Deps } from '../runtime/deps';
import { lambdaHandler } from '../runtime/handler';

export type Event = { deployment: DeploymentContext };

export function make(deps: Deps, recorder?: MetricsRecorder) {
  const ports = portsFrom(deps, recorder);
  return (event: Event) => shiftTraffic(ports, event.deployment);
}

export const handler = lambdaHandler(
  {
    ecs: () => new ECSClient({}),
    elb: () => new ElasticLoadBalancingV2Client({}),
    dynamodb: () => new DynamoDBClient({}),
  },
  make,
);
