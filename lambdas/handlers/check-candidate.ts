/** Checks whether the candidate is steady with healthy targets. */
import { ECSClient } from '@aws-sdk/client-ecs';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { checkCandidate } from '../engine/steps';
import type { DeploymentContext } from '../engine/context';
import { portsFrom, type MetricsRecorder } from '../engine/ports';
import type { Deps } from '../runtime/deps';
import { lambdaHandler } from '../runtime/handler';

export type Event = { deployment: DeploymentContext };

export function make(deps: Deps, recorder?: MetricsRecorder) {
  const ports = portsFrom(deps, recorder);
  return (event: Event) => checkCandidate(ports, event.deployment);
}

export const handler = lambdaHandler(
  {
    ecs: () => new ECSClient({}),
    cloudwatch: () => new CloudWatchClient({}),
    dynamodb: () => new DynamoDBClient({}),
  },
  make,
);
