import { parseInput } from '../../lambdas/domain/input';
import { PromotionInput, stageDeploymentId, stageStatusOfExecution } from '../../lambdas/domain/promotion';
import { executionConsoleUrl } from '../../lambdas/domain/links';

describe('a promotion stage', () => {
  it.each([
    [{ status: 'RUNNING' }, 'running'],
    [{ status: 'SUCCEEDED' }, 'SUCCEEDED'],
    [{ status: 'FAILED', error: 'RolledBack' }, 'ROLLED_BACK'],
    [{ status: 'ABORTED', error: 'RolledBack' }, 'ROLLED_BACK'],
    [{ status: 'FAILED', error: 'DeploymentRejected' }, 'REJECTED'],
    [{ status: 'FAILED', error: 'RollbackFailed' }, 'FAILED'],
    [{ status: 'FAILED', error: 'RetireFailed' }, 'SUCCEEDED'],
    [{ status: 'ABORTED' }, 'ABORTED'],
    [{ status: 'TIMED_OUT', error: 'States.Timeout' }, 'TIMED_OUT'],
  ])('ends as %j says: %s', (execution, expected) => {
    expect(stageStatusOfExecution(execution)).toBe(expected);
  });

  it('names its deployment after the environment and service, uniquely per promotion, within 80 characters', () => {
    const a = stageDeploymentId(
      'production-promotion-checkout-x',
      'staging',
      'checkout',
      '2026-01-05T09:00:00.000Z',
    );
    const b = stageDeploymentId(
      'production-promotion-checkout-y',
      'staging',
      'checkout',
      '2026-01-05T09:00:00.000Z',
    );
    expect(a).toMatch(/^staging-checkout-20260105t090000z-p[0-9a-f]{6}$/);
    expect(a).not.toBe(b);
    expect(
      stageDeploymentId('p', 'e'.repeat(60), 's'.repeat(60), '2026-01-05T09:00:00Z').length,
    ).toBeLessThanOrEqual(80);
  });
});

describe('promotion input', () => {
  const valid = {
    service: 'checkout',
    image: 'registry.example.com/checkout:1.4.2',
    stages: [
      { environment: 'staging', strategy: 'canary' },
      { environment: 'production', strategy: 'canary', approval: true },
    ],
  };

  it('defaults approval to false and the approval timeout to an hour', () => {
    const input = parseInput(PromotionInput, valid);
    expect(input.stages[0]!.approval).toBe(false);
    expect(input.approvalTimeoutSeconds).toBe(3600);
  });

  it.each<[string, unknown, string]>([
    ['no stage', { ...valid, stages: [] }, 'stages'],
    ['an environment twice', { ...valid, stages: [valid.stages[0], valid.stages[0]] }, 'stages'],
    [
      'an unknown strategy',
      { ...valid, stages: [{ environment: 'staging', strategy: 'big-bang' }] },
      'stages[0].strategy',
    ],
    ['a bad image', { ...valid, image: 'not an image' }, 'image'],
    ['an unknown field', { ...valid, through: ['staging'] }, 'input'],
  ])('rejects %s, naming the field', (_case, raw, field) => {
    expect(() => parseInput(PromotionInput, raw)).toThrow(expect.objectContaining({ field }));
  });
});

describe('console link', () => {
  it("points at the execution in its own region's Step Functions console", () => {
    expect(executionConsoleUrl('arn:aws:states:eu-west-1:111111111111:execution:m:n')).toBe(
      'https://console.aws.amazon.com/states/home?region=eu-west-1#/v2/executions/details/arn:aws:states:eu-west-1:111111111111:execution:m:n',
    );
  });
});
