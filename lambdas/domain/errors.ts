/**
 * Named errors. Their `name` is what the state machines' Retry and Catch match, so names are part of the
 * contract with `statemachines/*.asl.json`. Outcomes that are not faults are values, not errors.
 */

/** Bad execution input or an environment that is not ready: nothing was changed. Not retried. */
export class ValidationError extends Error {
  override readonly name = 'ValidationError';
  constructor(
    message: string,
    /** The input field or readiness condition at fault, e.g. `strategyOptions.steps[1]` or `alarms`. */
    readonly field: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** Another deployment holds the service's lock. Not retried: a second execution is rejected at once. */
export class LockHeldError extends Error {
  override readonly name = 'LockHeldError';
  constructor(
    readonly environment: string,
    readonly service: string,
    readonly holder: string,
    options?: ErrorOptions,
  ) {
    super(`service ${service} in ${environment} is locked by deployment ${holder}`, options);
  }
}

/** A throttled or transiently failing AWS call, after the SDK's own retries. Retried by the state machine. */
export class TransientAwsError extends Error {
  override readonly name = 'TransientAwsError';
}

/** A step failed in a way retrying will not fix (missing resource, bad state). Leads to rollback. */
export class DeploymentStepError extends Error {
  override readonly name = 'DeploymentStepError';
}

/** The rollback could not complete: traffic may not be safe. The record ends FAILED and someone is paged. */
export class RollbackFailedError extends Error {
  override readonly name = 'RollbackFailedError';
}

/** The record a step needs is not there. */
export class RecordNotFoundError extends Error {
  override readonly name = 'RecordNotFoundError';
  constructor(what: string, options?: ErrorOptions) {
    super(`${what} not found`, options);
  }
}

const TRANSIENT = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'ProvisionedThroughputExceededException',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'InternalServerError',
  'InternalFailure',
  'ServerException',
  'TimeoutError',
  'ECONNRESET',
  'ECONNREFUSED',
]);

/** Whether an AWS SDK error is worth retrying (throttling, 5xx, connection faults). */
export function isTransient(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const meta = (err as { $metadata?: { httpStatusCode?: number }; $retryable?: unknown; code?: string })
    .$metadata;
  return (
    TRANSIENT.has(err.name) ||
    TRANSIENT.has((err as { code?: string }).code ?? '') ||
    (meta?.httpStatusCode !== undefined && meta.httpStatusCode >= 500) ||
    (err as { $retryable?: unknown }).$retryable !== undefined
  );
}

/** Wraps a transient AWS fault in TransientAwsError (matched by Retry); other errors pass through unchanged. */
export function classifyAwsError(err: unknown): unknown {
  if (err instanceof TransientAwsError || !isTransient(err)) return err;
  const e = err as Error;
  return new TransientAwsError(`${e.name}: ${e.message}`, { cause: err });
}

/** A step's own deadline passed (the candidate never became steady). Leads to rollback with trigger timeout. */
export class StepTimeoutError extends Error {
  override readonly name = 'StepTimeoutError';
}

/** A person rejected the deployment at its approval step. Leads to rollback with trigger manual. */
export class ApprovalRejectedError extends Error {
  override readonly name = 'ApprovalRejected';
}
