import { Template } from 'aws-cdk-lib/assertions';
import { sampleConfig, synthApp } from '../support/synth';

/** Actions that AWS authorises on no resource but `*`: the only ones allowed there. */
const NO_RESOURCE_LEVEL = new Set([
  'xray:PutTraceSegments',
  'xray:PutTelemetryRecords',
  'xray:GetSamplingRules',
  'xray:GetSamplingTargets',
  'ecs:DescribeTaskDefinition',
  'ecs:RegisterTaskDefinition',
  'elasticloadbalancing:DescribeListeners',
  'elasticloadbalancing:DescribeRules',
  'cloudwatch:GetMetricData',
  'logs:CreateLogDelivery',
  'logs:GetLogDelivery',
  'logs:UpdateLogDelivery',
  'logs:DeleteLogDelivery',
  'logs:ListLogDeliveries',
  'logs:PutResourcePolicy',
  'logs:DescribeResourcePolicies',
  'logs:DescribeLogGroups',
]);

const config = sampleConfig();
const { stacks } = synthApp(config);

describe.each(stacks.map((s) => [s.stackName, s] as const))('%s IAM', (_n, stack) => {
  const policies = Object.entries(Template.fromStack(stack).findResources('AWS::IAM::Policy'));
  const statements = policies.flatMap(([id, p]) =>
    (p.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[]).map(
      (s) => ({ id, ...s }),
    ),
  );
  const actions = (s: { Action: string | string[] }) => (Array.isArray(s.Action) ? s.Action : [s.Action]);
  const resources = (s: { Resource: unknown }) => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]);

  it('grants `*` resources only for actions that allow no other', () => {
    const wildcard = statements.filter((s) => resources(s).includes('*'));
    expect(
      wildcard.flatMap((s) =>
        actions(s)
          .filter((a) => !NO_RESOURCE_LEVEL.has(a))
          .map((a) => `${s.id}: ${a}`),
      ),
    ).toEqual([]);
  });

  it('grants no wildcard actions', () => {
    expect(statements.flatMap((s) => actions(s).filter((a) => a.endsWith(':*') || a === '*'))).toEqual([]);
  });

  it('lets only the traffic-moving functions modify listeners, and only the configured ones', () => {
    const modifying = statements.filter((s) => actions(s).includes('elasticloadbalancing:ModifyListener'));
    expect([...new Set(modifying.map((s) => s.id.replace(/Role.*$/, '')))].sort()).toEqual([
      'EngineManualRollback',
      'EngineReconcile',
      'EngineRollback',
      'EngineShiftTraffic',
    ]);
    for (const s of modifying)
      for (const r of resources(s))
        expect(String(r)).toMatch(/^arn:aws:elasticloadbalancing:[^:]+:\d{12}:(listener|targetgroup)\//);
  });

  it('lets only the rollback paths stop executions, and only of its own state machines', () => {
    const stopping = statements.filter((s) => actions(s).includes('states:StopExecution'));
    for (const s of stopping) {
      for (const r of resources(s)) expect(JSON.stringify(r)).toContain(`:execution:${stack.stackName}-`);
    }
  });
});
