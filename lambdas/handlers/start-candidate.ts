/** Starts the candidate task set in the free slot. */
import { ECSClient } from '@aws-sdk/client-ecs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { startCandidate } from '../engine/steps';
import type { DeploymentContext } from '../engine/context';
import { portsFrom, type MetricsRecorder } from '../engine/ports';
import type { Deps } from '../runtime/deps';
import { lambdaHandler } from '../runtime/handler';

export type Event = { deployment: DeploymentContext };

export function make(deps: Deps, recorder?: MetricsRecorder) {
  const ports = portsFrom(deps, recorder);
  return (event: Event) => startCandidate(ports, event.deployment);
}

export const handler = lambdaHandler(
  { ecs: () => new ECSClient({}), dynamodb: () => new DynamoDBClient({}) },
  make,
);
