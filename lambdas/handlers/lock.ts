/** Takes the service's deployment lock. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import { lock } from '../engine/validate';
import type { DeploymentContext } from '../engine/context';
import { portsFrom, type MetricsRecorder } from '../engine/ports';
import type { Deps } from '../runtime/deps';
import { lambdaHandler } from '../runtime/handler';

export type Event = { deployment: DeploymentContext };

export function make(deps: Deps, recorder?: MetricsRecorder) {
  const ports = portsFrom(deps, recorder);
  return (event: Event) => lock(ports, event.deployment);
}

export const handler = lambdaHandler(
  { dynamodb: () => new DynamoDBClient({}), sns: () => new SNSClient({}) },
  make,
);
