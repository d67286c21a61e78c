/** Keeps the approval task token on the record and notifies. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import { requestApproval } from '../engine/steps';
import type { DeploymentContext } from '../engine/context';
import { portsFrom, type MetricsRecorder } from '../engine/ports';
import type { Deps } from '../runtime/deps';
import { lambdaHandler } from '../runtime/handler';

export type Event = { deployment: DeploymentContext; taskToken: string };

export function make(deps: Deps, recorder?: MetricsRecorder) {
  const ports = portsFrom(deps, recorder);
  return async (event: Event) => {
    await requestApproval(ports, event.deployment, event.taskToken);
    return { requested: true };
  };
}

export const handler = lambdaHandler(
  { dynamodb: () => new DynamoDBClient({}), sns: () => new SNSClient({}) },
  make,
);
