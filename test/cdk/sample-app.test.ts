/**
 * The sample application stack: what a user deploys to try the controller in a real account. Shaped after the
 * sample config's service, checked by cdk-nag and cfn-lint like the controller's stacks.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { buildSampleApp } from '../../lib/sample-app/app';

describe('the sample application stack', () => {
  const app = new App();
  const stack = buildSampleApp(app, { environment: 'staging' });
  const template = Template.fromStack(stack);

  it("is named after the service it stands for, in the environment's region", () => {
    expect(stack.stackName).toBe('EnvironmentController-SampleApp-staging-checkout');
    expect(stack.region).toBe('eu-west-1');
  });

  it('runs an ECS service with the EXTERNAL deployment controller, named as the config names it', () => {
    template.hasResourceProperties('AWS::ECS::Cluster', { ClusterName: 'shop-staging' });
    template.hasResourceProperties('AWS::ECS::Service', {
      ServiceName: 'checkout',
      DeploymentController: { Type: 'EXTERNAL' },
      DesiredCount: 2,
    });
    const service = Object.values(template.findResources('AWS::ECS::Service'))[0]!;
    expect(Object.keys(service.Properties)).not.toEqual(expect.arrayContaining(['TaskDefinition']));
  });

  it('starts the stable task set in the blue slot at full scale, primary', () => {
    const blue = template.findResources('AWS::ElasticLoadBalancingV2::TargetGroup', {
      Properties: { TargetType: 'ip', Port: 8080 },
    });
    expect(Object.keys(blue)).toHaveLength(2);
    template.hasResourceProperties('AWS::ECS::TaskSet', {
      LaunchType: 'FARGATE',
      Scale: { Unit: 'PERCENT', Value: 100 },
      LoadBalancers: [
        {
          ContainerName: 'app',
          ContainerPort: 8080,
          TargetGroupArn: { Ref: Match.stringLikeRegexp('^BlueTargetGroup') },
        },
      ],
    });
    template.hasResourceProperties('AWS::ECS::PrimaryTaskSet', {
      TaskSetId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^StableTaskSet'), 'Id'] },
    });
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [
        Match.objectLike({
          Name: 'app',
          Image: 'public.ecr.aws/nginx/nginx:1.27',
          PortMappings: [{ ContainerPort: 8080, Protocol: 'tcp' }],
        }),
      ],
    });
  });

  it('has a production and a test listener, each forwarding 100/0 to the blue and green target groups', () => {
    const weighted = {
      DefaultActions: [
        {
          Type: 'forward',
          ForwardConfig: {
            TargetGroups: [
              { TargetGroupArn: { Ref: Match.stringLikeRegexp('^BlueTargetGroup') }, Weight: 100 },
              { TargetGroupArn: { Ref: Match.stringLikeRegexp('^GreenTargetGroup') }, Weight: 0 },
            ],
          },
        },
      ],
    };
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', { Port: 80, ...weighted });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', { Port: 8080, ...weighted });
    for (const name of ['ListenerArn', 'TestListenerArn', 'BlueTargetGroupArn', 'GreenTargetGroupArn', 'Url'])
      template.hasOutput(name, {});
  });

  it('has no unacknowledged AwsSolutions or Serverless finding', () => {
    const violations = [new AwsSolutionsChecks(app), new ServerlessChecks(app)].flatMap(
      (p) => p.validateScope(stack).violations,
    );

    const findings = violations.flatMap((v) =>
      v.violatingResources.map((r) => `${v.ruleName} ${r.resourceLogicalId}`),
    );
    expect(findings).toEqual([]);
  });

  it('passes cfn-lint without an error', () => {
    const outdir = mkdtempSync(path.join(os.tmpdir(), 'sample-app-cfn-lint-'));
    try {
      const synthApp = new App({ outdir });
      buildSampleApp(synthApp, { environment: 'staging' });
      synthApp.synth();
      const templates = readdirSync(outdir)
        .filter((f) => f.endsWith('.template.json'))
        .map((f) => path.join(outdir, f));

      const run = spawnSync('cfn-lint', ['--format', 'json', '--regions', 'eu-west-1', '--', ...templates], {
        encoding: 'utf8',
      });

      if (run.error)
        throw new Error(`cannot run cfn-lint (${run.error.message}); install it with: pip install cfn-lint`);
      const errors = (
        JSON.parse(run.stdout) as { Level: string; Message: string; Rule: { Id: string } }[]
      ).filter((f) => f.Level === 'Error');
      expect(errors.map((e) => `${e.Rule.Id}: ${e.Message}`)).toEqual([]);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  }, 60_000);

  it('names an environment or a service the config does not have', () => {
    expect(() => buildSampleApp(new App(), { environment: 'qa' })).toThrow(
      'no environment "qa" in the config (environments: development, staging, production)',
    );
    expect(() => buildSampleApp(new App(), { environment: 'staging', service: 'cart' })).toThrow(
      'no service "cart" in staging (services: checkout, catalog)',
    );
  });
});
