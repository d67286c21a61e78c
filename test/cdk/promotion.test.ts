/** The promotion pipeline in each stack: its state machine, and whose deployments its function may start. */
import { Match, Template } from 'aws-cdk-lib/assertions';
import type { ProjectConfig } from '../../lambdas/domain/config';
import { sampleConfig, synthApp } from '../support/synth';

type Statement = { Action: string | string[]; Resource: unknown };

/** The statements of the promote-step function's role. */
function promoteStepStatements(template: Template): Statement[] {
  const policies = template.findResources('AWS::IAM::Policy');
  return Object.entries(policies)
    .filter(([id]) => id.startsWith('EnginePromoteStep'))
    .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as Statement[]);
}

const resourcesOf = (statements: Statement[], action: string) =>
  statements
    .filter((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]).includes(action))
    .flatMap((s) => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]))
    .map((r) => JSON.stringify(r));

describe('the promotion pipeline', () => {
  it('is in every stack, with its state machine ARN among the outputs', () => {
    for (const stack of synthApp().stacks) {
      const template = Template.fromStack(stack);
      template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
        StateMachineName: `${stack.stackName}-promotion`,
        DefinitionSubstitutions: Match.objectLike({ Project: 'EnvironmentController' }),
      });
      template.hasOutput('PromotionStateMachineArn', {});
    }
  });

  it('starts only the deployment state machines of its own environment when the others are in other accounts', () => {
    const production = Template.fromStack(synthApp().stacks[2]!);
    const statements = promoteStepStatements(production);
    const started = resourcesOf(statements, 'states:StartExecution');
    expect(started).toHaveLength(3);
    for (const kind of ['blue-green', 'canary', 'rolling'])
      expect(started.some((r) => r.includes(`:stateMachine:EnvironmentController-production-${kind}`))).toBe(
        true,
      );
    expect(
      resourcesOf(statements, 'states:DescribeExecution').every((r) =>
        r.includes(':execution:EnvironmentController-production-'),
      ),
    ).toBe(true);
  });

  it('starts those of the environments that share its account and region too', () => {
    const config: ProjectConfig = sampleConfig();
    const shared = {
      ...config,
      environments: config.environments.map((e) => ({ ...e, account: '333333333333' })),
    };
    const production = Template.fromStack(synthApp(shared).stacks[2]!);
    const started = resourcesOf(promoteStepStatements(production), 'states:StartExecution');
    expect(started).toHaveLength(9);
    for (const env of ['development', 'staging', 'production'])
      expect(started.some((r) => r.includes(`:stateMachine:EnvironmentController-${env}-canary`))).toBe(true);
  });
});
