import { Match, Template } from 'aws-cdk-lib/assertions';
import type { EnvironmentConfig } from '../../lambdas/domain/config';
import { alarmNamesFor } from '../../lambdas/domain/naming';
import { ServiceRegistration } from '../../lambdas/domain/registration';
import { sampleConfig, synthApp } from '../support/synth';

/** The CDK provider framework's relay function is CDK's own code; it carries CDK's settings, not the house ones. */
const PROVIDER_FRAMEWORK = /^AWS CDK resource provider framework/;

type Resource = { Type: string; Properties: Record<string, unknown>; DeletionPolicy?: string };

const config = sampleConfig();
const { stacks } = synthApp(config);
const cases = stacks.map((stack) => {
  const environment = config.environments.find((e) => stack.stackName.endsWith(`-${e.name}`))!;
  return [stack.stackName, environment, Template.fromStack(stack)] as const;
});

it('synthesizes one stack per environment, named after it', () => {
  expect(stacks.map((s) => s.stackName)).toEqual([
    'EnvironmentController-development',
    'EnvironmentController-staging',
    'EnvironmentController-production',
  ]);
});

describe.each(cases)('%s', (_name, environment: EnvironmentConfig, template: Template) => {
  const production = environment.type === 'production';

  describe('the deployments table', () => {
    it('is keyed by pk and sk, with the three indexes of the access patterns', () => {
      template.resourceCountIs('AWS::DynamoDB::GlobalTable', 1);
      template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: [
          index('byService', 'gsi1pk', 'gsi1sk'),
          index('byEnvironment', 'gsi2pk', 'gsi2sk'),
          index('byEnvironmentKind', 'gsi3pk', 'gsi3sk'),
        ],
        AttributeDefinitions: Match.arrayWith(
          ['pk', 'sk', 'gsi1pk', 'gsi1sk', 'gsi2pk', 'gsi2sk', 'gsi3pk', 'gsi3sk'].map((name) => ({
            AttributeName: name,
            AttributeType: 'S',
          })),
        ),
      });
    });

    it('bills on demand, with point-in-time recovery, encryption and a TTL on expiresAt', () => {
      template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
        BillingMode: 'PAY_PER_REQUEST',
        SSESpecification: { SSEEnabled: true },
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        Replicas: [
          Match.objectLike({
            Region: environment.region,
            PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          }),
        ],
      });
    });

    it(
      production
        ? 'is retained and deletion-protected in production'
        : 'is neither retained nor deletion-protected outside production',
      () => {
        template.hasResource('AWS::DynamoDB::GlobalTable', {
          DeletionPolicy: production ? 'Retain' : 'Delete',
          UpdateReplacePolicy: production ? 'Retain' : 'Delete',
          Properties: {
            Replicas: [Match.objectLike({ DeletionProtectionEnabled: production })],
          },
        });
      },
    );
  });

  describe('every function of the project', () => {
    const functions = Object.entries(
      template.findResources('AWS::Lambda::Function') as Record<string, Resource>,
    );
    const own = functions.filter(
      ([, fn]) => !PROVIDER_FRAMEWORK.test(String(fn.Properties.Description ?? '')),
    );
    const logGroups = template.findResources('AWS::Logs::LogGroup') as Record<string, Resource>;

    it('is there, besides the provider framework', () => {
      expect(own.length).toBeGreaterThan(0);
    });

    it.each(own)('%s runs Node.js 24 on arm64 with X-Ray tracing, a timeout and a memory size', (_id, fn) => {
      expect(fn.Properties).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        TracingConfig: { Mode: 'Active' },
        Timeout: expect.any(Number),
        MemorySize: expect.any(Number),
      });
      expect(fn.Properties.Timeout).toBeLessThanOrEqual(900);
    });

    it.each(own)('%s logs JSON to its own log group, which has a retention', (_id, fn) => {
      const logging = fn.Properties.LoggingConfig as { LogFormat?: string; LogGroup?: { Ref?: string } };
      expect(logging.LogFormat).toBe('JSON');
      const group = logGroups[logging.LogGroup?.Ref ?? ''];
      expect(group).toBeDefined();
      expect(group!.Properties.RetentionInDays).toEqual(expect.any(Number));
    });
  });

  describe('the registration of the environment', () => {
    const registrations = Object.values(
      template.findResources('Custom::ServiceRegistration') as Record<string, Resource>,
    );

    it('is one custom resource served by the provider framework', () => {
      expect(registrations).toHaveLength(1);
      const [providerId] = Object.keys(
        template.findResources('AWS::Lambda::Function', {
          Properties: { Description: Match.stringLikeRegexp('^AWS CDK resource provider framework') },
        }),
      );
      expect(registrations[0]!.Properties.ServiceToken).toEqual({ 'Fn::GetAtt': [providerId, 'Arn'] });
      expect(registrations[0]!.Properties.Environment).toBe(environment.name);
    });

    it("holds the environment's services, their config and the alarms that watch them", () => {
      const parsed = ServiceRegistration.array().parse(
        JSON.parse(String(registrations[0]!.Properties.Registrations)),
      );
      expect(parsed.map((r) => r.service.name)).toEqual(environment.services.map((s) => s.name));
      for (const registration of parsed) {
        expect(registration).toMatchObject({
          environment: environment.name,
          environmentType: environment.type,
          approvalRequired: production,
          rollback: environment.rollback,
        });
        expect(registration.service).toEqual(
          environment.services.find((s) => s.name === registration.service.name),
        );
        expect(registration.alarmNames).toEqual(alarmNamesFor(environment, registration.service));
      }
    });

    it('names only alarms that the stack creates or that the config says already exist', () => {
      const created = Object.values(
        template.findResources('AWS::CloudWatch::Alarm') as Record<string, Resource>,
      ).map((alarm) => alarm.Properties.AlarmName);
      for (const service of environment.services) {
        const existing = service.alarms.extra.flatMap((extra) =>
          'alarmName' in extra ? [extra.alarmName] : [],
        );
        const own = alarmNamesFor(environment, service).filter((name) => !existing.includes(name));
        expect(own.length).toBeGreaterThan(0);
        expect(created).toEqual(expect.arrayContaining(own));
      }
    });
  });
});

function index(indexName: string, partitionKey: string, sortKey: string) {
  return {
    IndexName: indexName,
    KeySchema: [
      { AttributeName: partitionKey, KeyType: 'HASH' },
      { AttributeName: sortKey, KeyType: 'RANGE' },
    ],
    Projection: { ProjectionType: 'ALL' },
  };
}
