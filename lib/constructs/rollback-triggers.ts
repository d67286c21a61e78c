import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import {
  loadBalancerDimension,
  targetGroupDimension,
  type EnvironmentConfig,
  type ServiceConfig,
} from '../../lambdas/domain/config';
import { alarmKindsFor, alarmName, alarmNamesFor, type AlarmKind } from '../../lambdas/domain/naming';

export interface RollbackTriggersProps {
  readonly environment: EnvironmentConfig;
  /** The rollback Lambda (RollbackSystem), target of the alarm rule. */
  readonly rollback: lambda.IFunction;
  /** The reconciler, target of the execution status rule. */
  readonly reconcile: lambda.IFunction;
  /** The deployment state machines whose ended executions the reconciler watches. */
  readonly deploymentStateMachines: readonly sfn.IStateMachine[];
  /** Events the targets could not take after retries. */
  readonly deadLetterQueue: sqs.IQueue;
}

/**
 * The alarms that watch each managed service (per slot: the slots swap roles between deployments), the rule that
 * sends exactly this environment's alarms going into ALARM to the rollback Lambda, and the rule that sends ended
 * executions to the reconciler. Both with retries and a dead-letter queue.
 */
export class RollbackTriggers extends Construct {
  readonly alarms: cloudwatch.Alarm[] = [];
  readonly alarmNames: string[];
  readonly alarmRule: events.Rule;
  readonly executionRule: events.Rule;
  readonly deadLetterQueue: sqs.IQueue;

  constructor(scope: Construct, id: string, props: RollbackTriggersProps) {
    super(scope, id);
    const env = props.environment;
    for (const service of env.services) this.alarms.push(...serviceAlarms(this, env, service));
    this.alarmNames = env.services.flatMap((s) => alarmNamesFor(env, s));

    this.deadLetterQueue = props.deadLetterQueue;
    const targetOptions = {
      retryAttempts: 8,
      maxEventAge: Duration.hours(1),
      deadLetterQueue: this.deadLetterQueue,
    };

    this.alarmRule = new events.Rule(this, 'AlarmRule', {
      description: `Alarms of ${env.name} going into ALARM roll back the service's active deployment`,
      eventPattern: {
        source: ['aws.cloudwatch'],
        detailType: ['CloudWatch Alarm State Change'],
        detail: { alarmName: this.alarmNames, state: { value: ['ALARM'] } },
      },
      targets: [new targets.LambdaFunction(props.rollback, targetOptions)],
    });

    this.executionRule = new events.Rule(this, 'ExecutionRule', {
      description: `Deployment executions of ${env.name} that ended FAILED, TIMED_OUT or ABORTED are reconciled`,
      eventPattern: {
        source: ['aws.states'],
        detailType: ['Step Functions Execution Status Change'],
        detail: {
          status: ['FAILED', 'TIMED_OUT', 'ABORTED'],
          stateMachineArn: props.deploymentStateMachines.map((sm) => sm.stateMachineArn),
        },
      },
      targets: [new targets.LambdaFunction(props.reconcile, targetOptions)],
    });
  }
}

const metricOf = (
  service: ServiceConfig,
  slot: 'blue' | 'green',
  metricName: string,
  statistic: string,
  period: Duration,
) =>
  new cloudwatch.Metric({
    namespace: 'AWS/ApplicationELB',
    metricName,
    statistic,
    period,
    dimensionsMap: {
      TargetGroup: targetGroupDimension(service.targetGroups[slot]),
      LoadBalancer: loadBalancerDimension(service.listener.arn),
    },
  });

function serviceAlarms(scope: Construct, env: EnvironmentConfig, service: ServiceConfig): cloudwatch.Alarm[] {
  const tuning = service.alarms.tuning;
  const period = Duration.seconds(tuning.periodSeconds);
  const common = {
    evaluationPeriods: tuning.evaluationPeriods,
    datapointsToAlarm: tuning.datapointsToAlarm,
    treatMissingData: tuning.treatMissingData as cloudwatch.TreatMissingData,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    actionsEnabled: true,
  };
  const alarms: cloudwatch.Alarm[] = [];
  const build: Record<
    AlarmKind,
    (slot: 'blue' | 'green') => Omit<cloudwatch.AlarmProps, 'evaluationPeriods'>
  > = {
    'error-rate': (slot) => ({
      metric: new cloudwatch.MathExpression({
        expression: '100 * errors / MAX([requests, 1])',
        usingMetrics: {
          errors: metricOf(service, slot, 'HTTPCode_Target_5XX_Count', 'Sum', period),
          requests: metricOf(service, slot, 'RequestCount', 'Sum', period),
        },
        period,
        label: '5xx %',
      }),
      threshold: service.health.maxErrorRatePercent,
      alarmDescription: `${service.name} (${env.name}, ${slot}): 5xx over ${service.health.maxErrorRatePercent}% of requests`,
    }),
    latency: (slot) => ({
      metric: metricOf(service, slot, 'TargetResponseTime', service.health.latencyPercentile, period),
      threshold: service.health.maxLatencyMs / 1000,
      alarmDescription: `${service.name} (${env.name}, ${slot}): ${service.health.latencyPercentile} latency over ${service.health.maxLatencyMs} ms`,
    }),
    'unhealthy-hosts': (slot) => ({
      metric: metricOf(service, slot, 'UnHealthyHostCount', 'Maximum', period),
      threshold: service.health.maxUnhealthyHosts,
      alarmDescription: `${service.name} (${env.name}, ${slot}): more than ${service.health.maxUnhealthyHosts} unhealthy hosts`,
    }),
  };
  for (const kind of alarmKindsFor(service)) {
    for (const slot of ['blue', 'green'] as const) {
      const name = alarmName(env.name, service.name, kind, slot);
      alarms.push(new cloudwatch.Alarm(scope, name, { ...common, ...build[kind](slot), alarmName: name }));
    }
  }
  for (const extra of service.alarms.extra) {
    if ('alarmName' in extra) continue; // an existing alarm: watched by name only
    const name = alarmName(env.name, service.name, extra.name);
    alarms.push(
      new cloudwatch.Alarm(scope, name, {
        ...common,
        alarmName: name,
        comparisonOperator: extra.comparison as cloudwatch.ComparisonOperator,
        threshold: extra.threshold,
        metric: new cloudwatch.Metric({
          namespace: extra.namespace,
          metricName: extra.metricName,
          dimensionsMap: extra.dimensions,
          statistic: extra.statistic,
          period,
        }),
        alarmDescription: `${service.name} (${env.name}): ${extra.metricName} ${extra.comparison} ${extra.threshold}`,
      }),
    );
  }
  return alarms;
}
