/** get_rollback_history: the rollbacks (or deployments) of a service or a whole environment, newest first, paginated. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import * as z from 'zod';
import { parseInput } from '../domain/input';
import { portsFrom } from '../engine/ports';
import type { Deps } from '../runtime/deps';
import { lambdaHandler } from '../runtime/handler';

export const HistoryQuery = z.strictObject({
  environment: z.string().min(1, 'must not be empty'),
  service: z.string().min(1).optional(),
  kind: z.enum(['rollbacks', 'deployments']).default('rollbacks'),
  limit: z.number().int().min(1, 'must be at least 1').max(100, 'must be at most 100').default(20),
  cursor: z.string().optional(),
});

export function make(deps: Deps) {
  const ports = portsFrom(deps);
  return async (event: unknown) => {
    const q = parseInput(HistoryQuery, event, 'query');
    const page =
      q.kind === 'rollbacks'
        ? await ports.store.listRollbacks(q.environment, q.service, { limit: q.limit, cursor: q.cursor })
        : await ports.store.listDeployments(q.environment, q.service, { limit: q.limit, cursor: q.cursor });
    return page;
  };
}

export const handler = lambdaHandler({ dynamodb: () => new DynamoDBClient({}) }, make);
