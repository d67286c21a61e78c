/** Ends a deployment whose rollback could not complete: FAILED, lock released, paged. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import { recordRollbackFailure } from '../engine/rollback';
import { reasonOf } from '../engine/context';
import type { DeploymentContext } from '../engine/context';
import { portsFrom, type MetricsRecorder } from '../engine/ports';
import type { Deps } from '../runtime/deps';
import { lambdaHandler } from '../runtime/handler';

export type Event = { deployment: DeploymentContext; error?: { Error?: string; Cause?: string } };

export function make(deps: Deps, recorder?: MetricsRecorder) {
  const ports = portsFrom(deps, recorder);
  return async (event: Event) => {
    await recordRollbackFailure(
      ports,
      event.deployment.deploymentId,
      reasonOf({ trigger: 'deployment-failure', error: event.error }),
    );
    return { recorded: true };
  };
}

export const handler = lambdaHandler(
  { dynamodb: () => new DynamoDBClient({}), sns: () => new SNSClient({}) },
  make,
);
