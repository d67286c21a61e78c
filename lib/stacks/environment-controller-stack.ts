import { CfnOutput, CustomResource, Duration, Stack, Tags, Validations, type StackProps } from 'aws-cdk-lib';
import * as cr from 'aws-cdk-lib/custom-resources';
import type { Construct } from 'constructs';
import type { EnvironmentConfig, ProjectConfig } from '../../lambdas/domain/config';
import { alarmNamesFor } from '../../lambdas/domain/naming';
import { registrationsFor } from '../../lambdas/domain/registration';
import { acknowledgeSynchronous, ControllerFunction, logicalIdOf } from '../constructs/controller-function';
import { DeploymentTable } from '../constructs/deployment-table';

export interface EnvironmentControllerStackProps extends StackProps {
  /** The whole validated project config. */
  readonly config: ProjectConfig;
  /** The environment this stack controls. */
  readonly environment: EnvironmentConfig;
}

/**
 * Everything that controls one environment's releases: the table, the deployment state machines and their
 * Lambda steps, the alarms and the rules that roll back, the reconciler, the dashboard.
 */
export class EnvironmentControllerStack extends Stack {
  readonly table: DeploymentTable;

  constructor(scope: Construct, id: string, props: EnvironmentControllerStackProps) {
    super(scope, id, props);
    const env = props.environment;
    const production = env.type === 'production';
    Tags.of(this).add('environment-controller:project', props.config.project);
    Tags.of(this).add('environment-controller:environment', env.name);

    this.table = new DeploymentTable(this, 'Deployments', { protect: production });

    const register = new ControllerFunction(this, 'RegisterEnvironment', {
      handler: 'register-environment',
      description: `Registers the services of ${env.name} in the deployments table`,
      timeout: Duration.seconds(60),
    }).bindTable(this.table.table);
    acknowledgeSynchronous(register, 'the CloudFormation custom resource provider');
    const provider = new cr.Provider(this, 'RegistrationProvider', { onEventHandler: register });
    acknowledgeProviderFramework(provider, register);
    new CustomResource(this, 'Registration', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::ServiceRegistration',
      properties: {
        Environment: env.name,
        Registrations: JSON.stringify(registrationsFor(env, (name) => alarmNamesFor(env, env.services.find((s) => s.name === name)!))),
      },
    });

    new CfnOutput(this, 'TableName', { value: this.table.table.tableName, exportName: `${id}-TableName` });
  }
}

/** The CDK provider framework's own function is CDK's code, not ours: its settings are CDK's choice. */
function acknowledgeProviderFramework(provider: cr.Provider, onEvent: ControllerFunction): void {
  const reason = "The custom resource provider framework function is the CDK's own; it only relays CloudFormation events to the registration function.";
  for (const id of [
    'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    `AwsSolutions-IAM5[Resource::<${logicalIdOf(onEvent)}.Arn>:*]`,
    'AwsSolutions-L1',
    'Serverless-LambdaDLQ',
    'Serverless-LambdaLatestVersion',
    'Serverless-LambdaDefaultMemorySize',
    'Serverless-LambdaTracing',
  ]) {
    Validations.of(provider).acknowledge({ id, reason });
  }
}
