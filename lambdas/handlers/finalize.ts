/** Makes the candidate primary and ends the deployment SUCCEEDED. */
import { ECSClient } from '@aws-sdk/client-ecs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import { finalize } from '../engine/steps';
import type { DeploymentContext } from '../engine/context';
import { portsFrom, type MetricsRecorder } from '../engine/ports';
import type { Deps } from '../runtime/deps';
import { lambdaHandler } from '../runtime/handler';

export type Event = { deployment: DeploymentContext };

export function make(deps: Deps, recorder?: MetricsRecorder) {
  const ports = portsFrom(deps, recorder);
  return (event: Event) => finalize(ports, event.deployment);
}

export const handler = lambdaHandler(
  { ecs: () => new ECSClient({}), dynamodb: () => new DynamoDBClient({}), sns: () => new SNSClient({}) },
  make,
);
