/**
 * The execution input contract: what the Step Functions console, the CLI and CI start a deployment with.
 * The first step parses it; anything unknown, mistyped or out of range is rejected naming the field.
 */
import * as z from 'zod';
import { CanarySteps, formatIssues, type ServiceConfig } from './config';
import { ValidationError } from './errors';

/** Container image reference: `registry/repo:tag` or `registry/repo@sha256:…`. */
const IMAGE =
  /^[a-z0-9]+(?:[._-][a-z0-9]+)*(?::\d+)?(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*(?::[\w][\w.-]{0,127}|@sha256:[a-f0-9]{64})$/;

export const StrategyOptionsInput = z.strictObject({
  /** Canary: traffic percents, increasing, ending at 100. */
  steps: CanarySteps.optional(),
  /** Rolling: percent moved per step. */
  stepPercent: z.number().int().min(1, 'must be at least 1').max(100, 'must be at most 100').optional(),
  /** Bake time after each step, in seconds. */
  bakeSeconds: z
    .number()
    .int('must be a whole number of seconds')
    .min(0, 'must not be negative')
    .max(86_400, 'must be at most 86400')
    .optional(),
});
export type StrategyOptionsInput = z.infer<typeof StrategyOptionsInput>;

export const ExecutionInput = z.strictObject({
  environment: z.string().min(1, 'must not be empty'),
  service: z.string().min(1, 'must not be empty'),
  image: z.string().regex(IMAGE, 'must be a container image reference such as registry/repo:tag'),
  reason: z.string().max(500, 'must be at most 500 characters').optional(),
  requestedBy: z.string().min(1, 'must not be empty').max(128, 'must be at most 128 characters').optional(),
  strategyOptions: StrategyOptionsInput.optional(),
  /** Set by the promotion pipeline to link this deployment to its promotion. */
  promotionId: z.string().max(128).optional(),
});
export type ExecutionInput = z.infer<typeof ExecutionInput>;

export const ManualRollbackInput = z.strictObject({
  environment: z.string().min(1, 'must not be empty'),
  service: z.string().min(1, 'must not be empty'),
  reason: z.string().min(1, 'must not be empty').max(500, 'must be at most 500 characters'),
  requestedBy: z.string().min(1, 'must not be empty').max(128, 'must be at most 128 characters'),
});
export type ManualRollbackInput = z.infer<typeof ManualRollbackInput>;

/** Parses with a schema, turning the first issue into a ValidationError that names the field. */
export function parseInput<T>(schema: z.ZodType<T>, raw: unknown, what = 'input'): T {
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const field =
    issue.path
      .map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`))
      .join('') || what;
  const message = formatIssues(raw, result.error)[0]!.replace(/^field /, '');
  throw new ValidationError(`invalid ${what}: ${message}`, field);
}

/** Options that make sense only for some strategies are rejected for the others, naming the field. */
export function checkOptionsFitStrategy(strategy: string, options: StrategyOptionsInput | undefined): void {
  if (!options) return;
  if (options.steps && strategy !== 'canary') {
    throw new ValidationError(
      `invalid input: strategyOptions.steps applies only to canary, not ${strategy}`,
      'strategyOptions.steps',
    );
  }
  if (options.stepPercent !== undefined && strategy !== 'rolling') {
    throw new ValidationError(
      `invalid input: strategyOptions.stepPercent applies only to rolling, not ${strategy}`,
      'strategyOptions.stepPercent',
    );
  }
}

/** The image the service's container runs in a task definition, to compare with the requested one. */
export function sameImage(a: string, b: string): boolean {
  return a.trim() === b.trim();
}

export type { ServiceConfig };
