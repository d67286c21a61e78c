/** Judges the candidate on alarms and metrics. */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { healthGate } from '../engine/steps';
import type { DeploymentContext } from '../engine/context';
import { portsFrom, type MetricsRecorder } from '../engine/ports';
import type { Deps } from '../runtime/deps';
import { lambdaHandler } from '../runtime/handler';

export type Event = { deployment: DeploymentContext };

export function make(deps: Deps, recorder?: MetricsRecorder) {
  const ports = portsFrom(deps, recorder);
  return (event: Event) => healthGate(ports, event.deployment);
}

export const handler = lambdaHandler(
  { cloudwatch: () => new CloudWatchClient({}), dynamodb: () => new DynamoDBClient({}) },
  make,
);
