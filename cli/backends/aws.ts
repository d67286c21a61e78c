/**
 * The CLI against AWS: the SDK's default credentials (environment, profile, SSO, instance role), each
 * environment's region from the config, and the stack `<project>-<environment>` found by name; its outputs name
 * the table and the state machines. Nothing is hard-coded.
 */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECSClient } from '@aws-sdk/client-ecs';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import { findEnvironment, type ProjectConfig } from '../../lambdas/domain/config';
import { executionConsoleUrl } from '../../lambdas/domain/links';
import { stackName as stackNameOf } from '../../lambdas/domain/naming';
import { systemClock } from '../../lambdas/runtime/clients';
import type { Deps } from '../../lambdas/runtime/deps';
import { UsageError } from '../context';
import { parseOutputs, type Backend, type Target } from './backend';

export interface AwsBackendOptions {
  /** Milliseconds between two reads of something being followed. @default 3000 */
  readonly pollMs?: number;
  /** Makes the CloudFormation client of a region (tests pass a mocked one). */
  readonly cloudFormation?: (region: string) => CloudFormationClient;
}

export class AwsBackend implements Backend {
  private readonly clients: { destroy(): void }[] = [];

  constructor(
    private readonly config: ProjectConfig,
    private readonly options: AwsBackendOptions = {},
  ) {}

  async open(environment: string): Promise<Target> {
    const env = findEnvironment(this.config, environment);
    if (!env) throw new UsageError(`no environment "${environment}" in the config`);
    const stackName = stackNameOf(this.config.project, env.name);
    const cfn =
      this.options.cloudFormation?.(env.region) ??
      this.track(new CloudFormationClient({ region: env.region }));
    let outputs: Record<string, string>;
    try {
      const out = await cfn.send(new DescribeStacksCommand({ StackName: stackName }));
      const stack = out.Stacks?.[0];
      if (!stack) throw new UsageError(notFound(stackName, env.region, env.account));
      outputs = Object.fromEntries(
        (stack.Outputs ?? []).flatMap((o) =>
          o.OutputKey && o.OutputValue ? [[o.OutputKey, o.OutputValue]] : [],
        ),
      );
    } catch (err) {
      throw describeAwsError(err, stackName, env.region, env.account);
    }
    const parsed = parseOutputs(stackName, outputs);
    const region = env.region;
    const lazy = <T extends { destroy(): void }>(make: () => T) => {
      let client: T | undefined;
      return () => (client ??= this.track(make()));
    };
    const ecs = lazy(() => new ECSClient({ region }));
    const elb = lazy(() => new ElasticLoadBalancingV2Client({ region }));
    const cloudwatch = lazy(() => new CloudWatchClient({ region }));
    const dynamodb = lazy(() => new DynamoDBClient({ region }));
    const sfn = lazy(() => new SFNClient({ region }));
    const sns = lazy(() => new SNSClient({ region }));
    const deps: Deps = {
      get ecs() {
        return ecs();
      },
      get elb() {
        return elb();
      },
      get cloudwatch() {
        return cloudwatch();
      },
      get dynamodb() {
        return dynamodb();
      },
      get sfn() {
        return sfn();
      },
      get sns() {
        return sns();
      },
      tableName: parsed.tableName,
      ...(parsed.notificationTopicArn ? { notificationTopicArn: parsed.notificationTopicArn } : {}),
      clock: systemClock,
    };
    const pollMs = this.options.pollMs ?? 3000;
    return {
      kind: 'aws',
      ephemeral: false,
      project: this.config.project,
      environment: env,
      stackName,
      outputs: parsed,
      deps,
      pause: () => new Promise((resolve) => setTimeout(resolve, pollMs)),
      consoleUrl: executionConsoleUrl,
    };
  }

  async close(): Promise<void> {
    for (const client of this.clients.splice(0)) client.destroy();
  }

  private track<T extends { destroy(): void }>(client: T): T {
    this.clients.push(client);
    return client;
  }
}

function notFound(stackName: string, region: string, account: string): string {
  return `stack ${stackName} not found in ${region} with these credentials (the config puts it in account ${account}): deploy it with npx cdk deploy ${stackName}, or use --local`;
}

/** Turns what CloudFormation or the credential chain says into one line for the user. */
export function describeAwsError(err: unknown, stackName: string, region: string, account: string): Error {
  if (err instanceof UsageError || !(err instanceof Error)) return err as Error;
  const message = err.message.split('\n')[0]!;
  if (err.name === 'CredentialsProviderError' || err.name === 'TokenProviderError') {
    return new UsageError(
      `no AWS credentials for ${stackName} (${message}): set AWS_PROFILE or sign in (aws sso login), or use --local`,
    );
  }
  if (err.name === 'ValidationError' && /does not exist/.test(message)) {
    return new UsageError(notFound(stackName, region, account));
  }
  if ((err as { $metadata?: unknown }).$metadata !== undefined) {
    return new UsageError(`AWS refused to describe stack ${stackName} in ${region}: ${err.name}: ${message}`);
  }
  return err;
}
