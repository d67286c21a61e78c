/** Approves or rejects a deployment waiting for approval. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { decideApproval } from '../engine/approval';
import { portsFrom, type MetricsRecorder } from '../engine/ports';
import type { Deps } from '../runtime/deps';
import { lambdaHandler } from '../runtime/handler';

export type Event = unknown;

export function make(deps: Deps, recorder?: MetricsRecorder) {
  const ports = portsFrom(deps, recorder);
  return (event: Event) => decideApproval(ports, event);
}

export const handler = lambdaHandler(
  { dynamodb: () => new DynamoDBClient({}), sfn: () => new SFNClient({}) },
  make,
);
