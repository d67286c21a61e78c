import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { synthApp } from '../support/synth';

describe('cdk-nag', () => {
  const { app, stacks } = synthApp();
  it.each(stacks.map((s) => [s.stackName, s] as const))(
    '%s has no unacknowledged AwsSolutions or Serverless finding',
    (_name, stack) => {
      // Prepare
      const packs = [new AwsSolutionsChecks(app), new ServerlessChecks(app)];
      // Act
      const violations = packs.flatMap((p) => p.validateScope(stack).violations);
      // Assess
      const findings = violations.flatMap((v) =>
        v.violatingResources.map(
          (r) =>
            `${v.ruleName} ${r.locations?.join(',') ?? r.resourceLogicalId}: ${v.description.slice(0, 120)}`,
        ),
      );
      expect(findings).toEqual([]);
    },
  );
});
