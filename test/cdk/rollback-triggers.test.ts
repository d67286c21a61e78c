import { Match, Template } from 'aws-cdk-lib/assertions';
import { alarmNamesFor } from '../../lambdas/domain/naming';
import { sampleConfig, synthApp } from '../support/synth';

const config = sampleConfig();
const { stacks } = synthApp(config);

describe.each(stacks.map((s, i) => [s.stackName, s, config.environments[i]!] as const))(
  '%s rollback triggers',
  (_name, stack, env) => {
    const template = Template.fromStack(stack);

    it("the alarm rule matches exactly the environment's alarms going into ALARM, into the rollback function", () => {
      const rules = template.findResources('AWS::Events::Rule', {
        Properties: { EventPattern: { source: ['aws.cloudwatch'] } },
      });
      expect(Object.keys(rules)).toHaveLength(1);
      const rule = Object.values(rules)[0]!.Properties;
      const expected = env.services.flatMap((s) => alarmNamesFor(env, s));
      expect(rule.EventPattern).toEqual({
        source: ['aws.cloudwatch'],
        'detail-type': ['CloudWatch Alarm State Change'],
        detail: { alarmName: expected, state: { value: ['ALARM'] } },
      });
      expect(rule.Targets).toHaveLength(1);
      expect(rule.Targets[0]).toMatchObject({
        RetryPolicy: { MaximumRetryAttempts: 8 },
        DeadLetterConfig: { Arn: expect.anything() },
      });
      expect(JSON.stringify(rule.Targets[0].Arn)).toContain('EngineRollback');
    });

    it('the execution rule sends ended deployment executions to the reconciler', () => {
      template.hasResourceProperties('AWS::Events::Rule', {
        EventPattern: {
          source: ['aws.states'],
          'detail-type': ['Step Functions Execution Status Change'],
          detail: { status: ['FAILED', 'TIMED_OUT', 'ABORTED'], stateMachineArn: Match.anyValue() },
        },
      });
    });

    it.each(env.services.map((s) => [s.name, s] as const))(
      '%s: alarm thresholds and tuning come from the config',
      (_svc, service) => {
        const t = service.alarms.tuning;
        for (const slot of ['blue', 'green']) {
          template.hasResourceProperties('AWS::CloudWatch::Alarm', {
            AlarmName: `${service.name}-${env.name}-error-rate-${slot}`,
            Threshold: service.health.maxErrorRatePercent,
            EvaluationPeriods: t.evaluationPeriods,
            DatapointsToAlarm: t.datapointsToAlarm,
            TreatMissingData: t.treatMissingData,
            ComparisonOperator: 'GreaterThanThreshold',
          });
          template.hasResourceProperties('AWS::CloudWatch::Alarm', {
            AlarmName: `${service.name}-${env.name}-latency-${slot}`,
            Threshold: service.health.maxLatencyMs / 1000,
            ExtendedStatistic: service.health.latencyPercentile,
            Period: t.periodSeconds,
          });
          template.hasResourceProperties('AWS::CloudWatch::Alarm', {
            AlarmName: `${service.name}-${env.name}-unhealthy-hosts-${slot}`,
            Threshold: service.health.maxUnhealthyHosts,
            Statistic: 'Maximum',
          });
        }
      },
    );

    it('the rollback and reconcile functions have a dead-letter queue for asynchronous invocations', () => {
      const fns = template.findResources('AWS::Lambda::Function', {
        Properties: { DeadLetterConfig: Match.anyValue() },
      });
      expect(Object.keys(fns).sort()).toEqual([
        expect.stringMatching(/^EngineReconcile/),
        expect.stringMatching(/^EngineRollback/),
      ]);
    });
  },
);
