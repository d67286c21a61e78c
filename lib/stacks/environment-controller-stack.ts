import { CfnOutput, CustomResource, Duration, Stack, Tags, Validations, type StackProps } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as cr from 'aws-cdk-lib/custom-resources';
import type { Construct } from 'constructs';
import {
  loadBalancerDimension,
  targetGroupDimension,
  type EnvironmentConfig,
  type ProjectConfig,
} from '../../lambdas/domain/config';
import { alarmNamesFor } from '../../lambdas/domain/naming';
import { registrationsFor } from '../../lambdas/domain/registration';
import { acknowledgeSynchronous, ControllerFunction, logicalIdOf } from '../constructs/controller-function';
import { DeploymentEngine } from '../constructs/deployment-engine';
import { DeploymentTable } from '../constructs/deployment-table';
import { RollbackTriggers } from '../constructs/rollback-triggers';
import { DEPLOYMENT_KINDS } from '../../statemachines';

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
  readonly engine: DeploymentEngine;
  readonly triggers: RollbackTriggers;

  constructor(scope: Construct, id: string, props: EnvironmentControllerStackProps) {
    super(scope, id, props);
    const env = props.environment;
    const production = env.type === 'production';
    // Dashboards take no tags in CloudFormation.
    const tagOptions = { excludeResourceTypes: ['AWS::CloudWatch::Dashboard'] };
    Tags.of(this).add('environment-controller:project', props.config.project, tagOptions);
    Tags.of(this).add('environment-controller:environment', env.name, tagOptions);

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
        Registrations: JSON.stringify(
          registrationsFor(env, (name) =>
            alarmNamesFor(
              env,
              env.services.find((s) => s.name === name)!,
            ),
          ),
        ),
      },
    });

    const topicKey = kms.Alias.fromAliasName(this, 'SnsKey', 'alias/aws/sns');
    const notifications = new sns.Topic(this, 'Notifications', {
      displayName: `Deployments in ${env.name}`,
      masterKey: topicKey,
      enforceSSL: true,
    });
    const alerts = new sns.Topic(this, 'Alerts', {
      displayName: `Failed rollbacks in ${env.name}: page on-call`,
      masterKey: topicKey,
      enforceSSL: true,
    });

    const deadLetters = new sqs.Queue(this, 'DeadLetters', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    for (const id of ['AwsSolutions-SQS3', 'Serverless-SQSRedrivePolicy']) {
      Validations.of(deadLetters).acknowledge({
        id,
        reason: 'This queue is itself the dead-letter queue of the rollback and reconcile paths.',
      });
    }

    this.engine = new DeploymentEngine(this, 'Engine', {
      deadLetterQueue: deadLetters,
      project: props.config.project,
      environment: env,
      table: this.table.table,
      notifications,
      alerts,
      // A promotion run by this stack can start the deployments of the environments in its account and region.
      promotionEnvironments: props.config.environments
        .filter((e) => e.account === env.account && e.region === env.region)
        .map((e) => e.name),
    });
    this.triggers = new RollbackTriggers(this, 'Triggers', {
      environment: env,
      rollback: this.engine.functions.rollback!,
      reconcile: this.engine.functions.reconcile!,
      deploymentStateMachines: DEPLOYMENT_KINDS.map((k) => this.engine.stateMachines[k]),
      deadLetterQueue: deadLetters,
    });

    new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: `${props.config.project}-${env.name}`,
      widgets: dashboardWidgets(env, props.config.project),
    });

    new CfnOutput(this, 'TableName', { value: this.table.table.tableName });
    new CfnOutput(this, 'NotificationTopicArn', { value: notifications.topicArn });
    new CfnOutput(this, 'DecideApprovalFunctionName', {
      value: this.engine.functions['decide-approval']!.functionName,
    });
    new CfnOutput(this, 'RollbackHistoryFunctionName', {
      value: this.engine.functions['rollback-history']!.functionName,
    });
    for (const [kind, sm] of Object.entries(this.engine.stateMachines)) {
      new CfnOutput(
        this,
        `${kind.replace(/(^|-)([a-z])/g, (_m, _d, c: string) => c.toUpperCase())}StateMachineArn`,
        { value: sm.stateMachineArn },
      );
    }
  }
}

/** The CDK provider framework's own function is CDK's code, not ours: its settings are CDK's choice. */
function acknowledgeProviderFramework(provider: cr.Provider, onEvent: ControllerFunction): void {
  const reason =
    "The custom resource provider framework function is the CDK's own; it only relays CloudFormation events to the registration function.";
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

/** Traffic weight, error rate and latency per slot, deployments and rollbacks, time to restore traffic. */
function dashboardWidgets(env: EnvironmentConfig, project: string): cloudwatch.IWidget[][] {
  const rows: cloudwatch.IWidget[][] = [];
  for (const service of env.services) {
    const dims = (slot: 'blue' | 'green') => ({
      TargetGroup: targetGroupDimension(service.targetGroups[slot]),
      LoadBalancer: loadBalancerDimension(service.listener.arn),
    });
    const m = (name: string, slot: 'blue' | 'green', statistic: string) =>
      new cloudwatch.Metric({
        namespace: 'AWS/ApplicationELB',
        metricName: name,
        dimensionsMap: dims(slot),
        statistic,
        label: `${name} ${slot}`,
      });
    rows.push([
      new cloudwatch.GraphWidget({
        title: `${service.name}: requests per slot (traffic weight)`,
        left: [m('RequestCount', 'blue', 'Sum'), m('RequestCount', 'green', 'Sum')],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: `${service.name}: 5xx per slot`,
        left: [m('HTTPCode_Target_5XX_Count', 'blue', 'Sum'), m('HTTPCode_Target_5XX_Count', 'green', 'Sum')],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: `${service.name}: ${service.health.latencyPercentile} latency per slot`,
        left: [
          m('TargetResponseTime', 'blue', service.health.latencyPercentile),
          m('TargetResponseTime', 'green', service.health.latencyPercentile),
        ],
        width: 8,
      }),
    ]);
  }
  const own = (name: string, statistic: string) =>
    new cloudwatch.Metric({
      namespace: 'EnvironmentController',
      metricName: name,
      dimensionsMap: { service: 'environment-controller' },
      statistic,
    });
  rows.push([
    new cloudwatch.GraphWidget({
      title: `${project} ${env.name}: rollbacks`,
      left: [own('Rollbacks', 'Sum')],
      width: 12,
    }),
    new cloudwatch.GraphWidget({
      title: 'Time to restore traffic (ms)',
      left: [own('TimeToRestoreTraffic', 'Maximum'), own('TimeToRestoreTraffic', 'Average')],
      width: 12,
    }),
  ]);
  return rows;
}
