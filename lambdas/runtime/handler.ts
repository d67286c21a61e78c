/**
 * Builds a Lambda handler from a `make(deps)` factory: deps created once per container, the deployment id and
 * execution ARN appended to every log line once, metrics flushed after each invocation.
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { MetricsRecorder } from '../engine/ports';
import { logger } from './logger';
import { awsDeps, type Deps } from './deps';

export type ClientFactories = Parameters<typeof awsDeps>[0];

export function lambdaHandler<E, R>(
  factories: ClientFactories,
  make: (deps: Deps, recorder: MetricsRecorder) => (event: E) => Promise<R>,
) {
  let built: ((event: E) => Promise<R>) | undefined;
  let metrics: Metrics | undefined;
  return async (event: E): Promise<R> => {
    metrics ??= new Metrics({
      namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'EnvironmentController',
    });
    const m = metrics;
    built ??= make(awsDeps(factories), {
      count: (name, value = 1) => m.addMetric(name, MetricUnit.Count, value),
      milliseconds: (name, value) => m.addMetric(name, MetricUnit.Milliseconds, value),
    });
    const ctx = (event as { deployment?: { deploymentId?: string; executionArn?: string } } | undefined)
      ?.deployment;
    logger.resetKeys();
    if (ctx?.deploymentId)
      logger.appendKeys({ deploymentId: ctx.deploymentId, executionArn: ctx.executionArn });
    try {
      return await built(event);
    } catch (err) {
      logger.error('step failed', { error: err as Error });
      throw err;
    } finally {
      m.publishStoredMetrics();
    }
  };
}
