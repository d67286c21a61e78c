import * as path from 'node:path';
import { Duration, RemovalPolicy, Stack, Tags, Validations, type CfnElement } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/** The Lambda runtime every function of the project runs on; the toolchain pins the same Node major. */
export const LAMBDA_RUNTIME = lambda.Runtime.NODEJS_24_X;

export interface ControllerFunctionProps {
  /** The handler file under `lambdas/handlers/`, without extension, e.g. `validate`. */
  readonly handler: string;
  /** What the function does, shown in the console. */
  readonly description: string;
  /** @default Duration.seconds(30) */
  readonly timeout?: Duration;
  /** @default 256 */
  readonly memorySize?: number;
  /** Extra environment variables. @default none */
  readonly environment?: Record<string, string>;
  /** Log retention. @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /** Dead-letter queue for asynchronous invocations. @default none (synchronously invoked functions) */
  readonly deadLetterQueue?: sqs.IQueue;
  /** Powertools service name. @default 'environment-controller' */
  readonly serviceName?: string;
}

/**
 * The house Lambda function: the newest Node.js runtime Lambda offers, arm64, bundled with the local esbuild
 * (no Docker), minified with source maps, X-Ray tracing, structured JSON logs with retention, a timeout.
 * Every function of the project is one of these.
 */
export class ControllerFunction extends nodejs.NodejsFunction {
  constructor(scope: Construct, id: string, props: ControllerFunctionProps) {
    const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // Its own role with logging scoped to its own log group, instead of the managed basic execution policy.
    const role = new iam.Role(scope, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of ${id}`,
    });
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [logGroup.logGroupArn],
      }),
    );
    super(scope, id, {
      role,
      entry: path.join(__dirname, '..', '..', 'lambdas', 'handlers', `${props.handler}.ts`),
      handler: 'handler',
      description: props.description,
      runtime: LAMBDA_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 256,
      timeout: props.timeout ?? Duration.seconds(30),
      tracing: lambda.Tracing.ACTIVE,
      loggingFormat: lambda.LoggingFormat.JSON,
      applicationLogLevelV2: lambda.ApplicationLogLevel.INFO,
      systemLogLevelV2: lambda.SystemLogLevel.WARN,
      logGroup,
      deadLetterQueue: props.deadLetterQueue,
      environment: {
        POWERTOOLS_SERVICE_NAME: props.serviceName ?? 'environment-controller',
        POWERTOOLS_METRICS_NAMESPACE: 'EnvironmentController',
        NODE_OPTIONS: '--enable-source-maps',
        ...props.environment,
      },
      bundling: {
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        target: 'node24',
        format: nodejs.OutputFormat.CJS,
        forceDockerBundling: false,
        // The nodejs24.x runtime provides the AWS SDK v3: leaving it out takes each bundle from about 1.4 MB to
        // about 0.5 MB. The price: a function runs the runtime's SDK version, not the lockfile's, and its init is
        // slower than with the SDK bundled from its ES modules (BENCHMARKS.md, cold start, has the figures).
        externalModules: ['@aws-sdk/*'],
      },
    });
    // The local cloud finds which handler a synthesized function runs by this tag.
    Tags.of(this).add('environment-controller:handler', props.handler);
    acknowledgeHouseDefaults(this);
  }

  /** Sets TABLE_NAME and grants read/write on the table and its indexes, in one place. */
  bindTable(table: dynamodb.ITableV2, access: 'read' | 'readWrite' = 'readWrite'): this {
    this.addEnvironment('TABLE_NAME', table.tableName);
    if (access === 'read') table.grantReadData(this);
    else table.grantReadWriteData(this);
    Validations.of(this.role!).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${logicalIdOf(table)}.Arn>/index/*]`,
      reason:
        "Queries on the table's own global secondary indexes (byService, byEnvironment, byEnvironmentKind).",
    });
    return this;
  }
}

/** The findings every house function draws by design, each with its reason. */
function acknowledgeHouseDefaults(fn: ControllerFunction): void {
  const v = Validations.of(fn);
  v.acknowledge({
    id: 'AwsSolutions-L1',
    reason:
      'nodejs24.x is the newest runtime that CloudFormation linting accepts today; the toolchain pins Node 24 to match.',
  });
  v.acknowledge({
    id: 'Serverless-LambdaLatestVersion',
    reason:
      'nodejs24.x is the newest runtime that CloudFormation linting accepts today; the toolchain pins Node 24 to match.',
  });
  Validations.of(fn.role!).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason:
      'Actions that support no resource-level permissions: X-Ray PutTraceSegments/PutTelemetryRecords; where granted, ' +
      'ecs:DescribeTaskDefinition/RegisterTaskDefinition, elasticloadbalancing:DescribeListeners/DescribeRules, cloudwatch:GetMetricData.',
  });
}

/** For functions invoked synchronously (by Step Functions or the CLI): a DLQ only ever receives async failures. */
export function acknowledgeSynchronous(fn: ControllerFunction, invokedBy: string): void {
  Validations.of(fn).acknowledge({
    id: 'Serverless-LambdaDLQ',
    reason: `Invoked synchronously by ${invokedBy}, which sees and handles every failure; a DLQ applies only to asynchronous invocations.`,
  });
}

/** The CloudFormation logical id of a construct's default resource, as cdk-nag names it in findings. */
export function logicalIdOf(construct: Construct): string {
  return Stack.of(construct).getLogicalId(construct.node.defaultChild as CfnElement);
}
