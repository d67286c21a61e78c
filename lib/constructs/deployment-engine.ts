import { Arn, ArnFormat, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { EnvironmentConfig } from '../../lambdas/domain/config';
import { stateMachineName } from '../../lambdas/domain/naming';
import {
  DEPLOYMENT_KINDS,
  definitionText,
  executionTimeoutSeconds,
  STATE_MACHINE_KINDS,
  substitutionOfHandler,
  type StateMachineKind,
} from '../../statemachines';
import { acknowledgeSynchronous, ControllerFunction } from './controller-function';

export interface DeploymentEngineProps {
  readonly project: string;
  readonly environment: EnvironmentConfig;
  readonly table: dynamodb.ITableV2;
  /** Deployment events: started, awaiting approval, succeeded, rolled back, failed. */
  readonly notifications: sns.ITopic;
  /** Pages: a rollback that could not complete. */
  readonly alerts: sns.ITopic;
  /** Where events that the rollback and reconcile functions failed to handle end up. */
  readonly deadLetterQueue: sqs.IQueue;
  /**
   * The environments whose deployment state machines this stack's promotions may start: those in this stack's
   * account and region (Step Functions has no resource policy that would let another account start them).
   * @default this environment alone
   */
  readonly promotionEnvironments?: readonly string[];
}

/** What each function may do, beyond the table: the least each needs, on the resources the config names. */
type Permission =
  | 'describe'
  | 'taskDefinitions'
  | 'createTaskSet'
  | 'scale'
  | 'primary'
  | 'deleteTaskSet'
  | 'traffic'
  | 'alarms'
  | 'metrics'
  | 'stop'
  | 'decide'
  | 'startDeployments'
  | 'notify'
  | 'page';

const FUNCTIONS: Record<
  string,
  { description: string; permissions: Permission[]; invokedBy: string; timeoutSeconds?: number }
> = {
  validate: {
    description: 'Validates execution input and environment readiness',
    permissions: ['describe', 'taskDefinitions', 'alarms'],
    invokedBy: 'Step Functions',
  },
  lock: {
    description: "Takes the service's deployment lock",
    permissions: ['notify'],
    invokedBy: 'Step Functions',
  },
  'start-candidate': {
    description: 'Starts the candidate task set',
    permissions: ['describe', 'taskDefinitions', 'createTaskSet'],
    invokedBy: 'Step Functions',
  },
  'check-candidate': {
    description: 'Checks that the candidate is steady and healthy',
    permissions: ['describe', 'metrics'],
    invokedBy: 'Step Functions',
  },
  'shift-traffic': {
    description: 'Moves traffic and capacity by one step',
    permissions: ['describe', 'scale', 'traffic'],
    invokedBy: 'Step Functions',
  },
  'health-gate': {
    description: 'Judges the candidate on alarms and metrics',
    permissions: ['alarms', 'metrics'],
    invokedBy: 'Step Functions',
  },
  'request-approval': {
    description: 'Waits for an approval decision',
    permissions: ['notify'],
    invokedBy: 'Step Functions',
  },
  finalize: {
    description: 'Makes the candidate primary and ends the deployment',
    permissions: ['describe', 'primary', 'notify'],
    invokedBy: 'Step Functions',
  },
  retire: {
    description: 'Removes the old task set after the termination wait',
    permissions: ['describe', 'scale', 'deleteTaskSet'],
    invokedBy: 'Step Functions',
  },
  rollback: {
    description:
      'RollbackSystem: restores traffic to stable, stops the execution, removes the candidate, records',
    permissions: ['describe', 'traffic', 'scale', 'primary', 'deleteTaskSet', 'stop', 'notify', 'page'],
    invokedBy: 'Step Functions and EventBridge',
    timeoutSeconds: 120,
  },
  'manual-rollback': {
    description: 'Rolls a service back at an operator request',
    permissions: ['describe', 'traffic', 'scale', 'primary', 'deleteTaskSet', 'stop', 'notify', 'page'],
    invokedBy: 'Step Functions',
    timeoutSeconds: 120,
  },
  reconcile: {
    description: 'Makes executions that ended without a terminal record safe',
    permissions: ['describe', 'traffic', 'scale', 'primary', 'deleteTaskSet', 'stop', 'notify', 'page'],
    invokedBy: 'EventBridge',
    timeoutSeconds: 120,
  },
  'record-failure': {
    description: 'Ends a deployment whose rollback failed and pages',
    permissions: ['notify', 'page'],
    invokedBy: 'Step Functions',
  },
  'decide-approval': {
    description: 'Approves or rejects a deployment waiting for approval',
    permissions: ['decide'],
    invokedBy: 'the envctl CLI',
  },
  'rollback-history': {
    description: 'Lists rollbacks and deployments, newest first',
    permissions: [],
    invokedBy: 'the envctl CLI',
  },
  'promote-step': {
    description: "Takes a release through environments: starts and follows each one's deployment",
    permissions: ['startDeployments', 'notify'],
    invokedBy: 'Step Functions',
  },
};

/**
 * The deployment engine of one environment: its Lambda steps, one state machine per strategy (plus the manual
 * rollback), each function granted only what it needs on the resources the config names.
 */
export class DeploymentEngine extends Construct {
  readonly functions: Record<string, ControllerFunction> = {};
  readonly stateMachines = {} as Record<StateMachineKind, sfn.StateMachine>;

  constructor(scope: Construct, id: string, props: DeploymentEngineProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const env = props.environment;
    const arn = (
      service: string,
      resource: string,
      resourceName: string,
      sep = ArnFormat.SLASH_RESOURCE_NAME,
    ) => Arn.format({ service, resource, resourceName, arnFormat: sep }, stack);
    const smArn = (kind: string) =>
      arn(
        'states',
        'stateMachine',
        stateMachineName(props.project, env.name, kind),
        ArnFormat.COLON_RESOURCE_NAME,
      );
    const executionArns = DEPLOYMENT_KINDS.map((k) =>
      arn(
        'states',
        'execution',
        `${stateMachineName(props.project, env.name, k)}:*`,
        ArnFormat.COLON_RESOURCE_NAME,
      ),
    );
    const services = env.services;
    const serviceArns = services.map((s) => arn('ecs', 'service', `${s.cluster}/${s.ecsService}`));
    const taskSetArns = services.map((s) => arn('ecs', 'task-set', `${s.cluster}/${s.ecsService}/*`));
    const listenerArns = [
      ...new Set(
        services.flatMap((s) => [s.listener.arn, ...(s.listener.ruleArn ? [s.listener.ruleArn] : [])]),
      ),
    ];
    const targetGroupArns = [
      ...new Set(services.flatMap((s) => [s.targetGroups.blue, s.targetGroups.green])),
    ];
    const alarmArns = [arn('cloudwatch', 'alarm', '*', ArnFormat.COLON_RESOURCE_NAME)];
    const promotionEnvironments = props.promotionEnvironments ?? [env.name];
    const promotedMachines = promotionEnvironments.flatMap((e) =>
      DEPLOYMENT_KINDS.map((k) => stateMachineName(props.project, e, k)),
    );

    const statements: Record<Permission, iam.PolicyStatement[]> = {
      describe: [new iam.PolicyStatement({ actions: ['ecs:DescribeServices'], resources: serviceArns })],
      taskDefinitions: [
        new iam.PolicyStatement({
          actions: ['ecs:DescribeTaskDefinition', 'ecs:RegisterTaskDefinition'],
          resources: ['*'],
        }),
        new iam.PolicyStatement({
          actions: ['iam:PassRole'],
          resources: [Arn.format({ service: 'iam', region: '', resource: 'role', resourceName: '*' }, stack)],
          conditions: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
        }),
      ],
      createTaskSet: [
        new iam.PolicyStatement({
          actions: ['ecs:CreateTaskSet', 'ecs:TagResource'],
          resources: [...serviceArns, ...taskSetArns],
        }),
      ],
      scale: [new iam.PolicyStatement({ actions: ['ecs:UpdateTaskSet'], resources: taskSetArns })],
      primary: [
        new iam.PolicyStatement({
          actions: ['ecs:UpdateServicePrimaryTaskSet'],
          resources: [...serviceArns, ...taskSetArns],
        }),
      ],
      deleteTaskSet: [new iam.PolicyStatement({ actions: ['ecs:DeleteTaskSet'], resources: taskSetArns })],
      traffic: [
        new iam.PolicyStatement({
          actions: ['elasticloadbalancing:DescribeListeners', 'elasticloadbalancing:DescribeRules'],
          resources: ['*'],
        }),
        new iam.PolicyStatement({
          actions: ['elasticloadbalancing:ModifyListener', 'elasticloadbalancing:ModifyRule'],
          resources: listenerArns,
        }),
        // ModifyListener and ModifyRule are authorised on the target groups they forward to as well.
        new iam.PolicyStatement({
          actions: ['elasticloadbalancing:ModifyListener', 'elasticloadbalancing:ModifyRule'],
          resources: targetGroupArns,
        }),
      ],
      alarms: [new iam.PolicyStatement({ actions: ['cloudwatch:DescribeAlarms'], resources: alarmArns })],
      metrics: [new iam.PolicyStatement({ actions: ['cloudwatch:GetMetricData'], resources: ['*'] })],
      stop: [
        new iam.PolicyStatement({
          actions: ['states:StopExecution', 'states:DescribeExecution'],
          resources: executionArns,
        }),
      ],
      decide: [
        new iam.PolicyStatement({
          actions: ['states:SendTaskSuccess', 'states:SendTaskFailure'],
          resources: DEPLOYMENT_KINDS.map(smArn),
        }),
      ],
      startDeployments: [
        new iam.PolicyStatement({
          actions: ['states:StartExecution'],
          resources: promotedMachines.map((name) =>
            arn('states', 'stateMachine', name, ArnFormat.COLON_RESOURCE_NAME),
          ),
        }),
        new iam.PolicyStatement({
          actions: ['states:DescribeExecution'],
          resources: promotedMachines.map((name) =>
            arn('states', 'execution', `${name}:*`, ArnFormat.COLON_RESOURCE_NAME),
          ),
        }),
      ],
      notify: [
        new iam.PolicyStatement({ actions: ['sns:Publish'], resources: [props.notifications.topicArn] }),
      ],
      page: [new iam.PolicyStatement({ actions: ['sns:Publish'], resources: [props.alerts.topicArn] })],
    };

    for (const [handler, spec] of Object.entries(FUNCTIONS)) {
      const fn = new ControllerFunction(this, pascal(handler), {
        handler,
        description: `${spec.description} (${env.name})`,
        timeout: Duration.seconds(spec.timeoutSeconds ?? 30),
        environment: {
          ...(spec.permissions.includes('notify')
            ? { NOTIFICATION_TOPIC_ARN: props.notifications.topicArn }
            : {}),
          ...(spec.permissions.includes('page') ? { ALERT_TOPIC_ARN: props.alerts.topicArn } : {}),
        },
        ...(spec.invokedBy.includes('EventBridge') ? { deadLetterQueue: props.deadLetterQueue } : {}),
      }).bindTable(props.table, handler === 'rollback-history' ? 'read' : 'readWrite');
      for (const p of spec.permissions) for (const s of statements[p]) fn.addToRolePolicy(s);
      acknowledgeWildcards(fn, spec.permissions, env, props.project, promotedMachines);
      if (spec.invokedBy !== 'EventBridge' && !spec.invokedBy.includes('EventBridge'))
        acknowledgeSynchronous(fn, spec.invokedBy);
      this.functions[handler] = fn;
    }

    for (const kind of STATE_MACHINE_KINDS) {
      const text = definitionText(kind, { timeoutSeconds: executionTimeoutSeconds(kind, env.rollback) });
      const used = Object.keys(FUNCTIONS).filter((h) => text.includes(`\${${substitutionOfHandler(h)}}`));
      const logGroup = new logs.LogGroup(this, `${pascal(kind)}ExecutionLogs`, {
        retention: logs.RetentionDays.THREE_MONTHS,
        removalPolicy: env.type === 'production' ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      });
      const sm = new sfn.StateMachine(this, `${pascal(kind)}StateMachine`, {
        stateMachineName: stateMachineName(props.project, env.name, kind),
        stateMachineType: sfn.StateMachineType.STANDARD,
        definitionBody: sfn.DefinitionBody.fromString(text),
        definitionSubstitutions: {
          ...Object.fromEntries(used.map((h) => [substitutionOfHandler(h), this.functions[h]!.functionArn])),
          ...(text.includes('${Project}') ? { Project: props.project } : {}),
        },
        logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
        tracingEnabled: true,
      });
      for (const h of used) this.functions[h]!.grantInvoke(sm);
      Validations.of(sm.role).acknowledge(
        {
          id: 'AwsSolutions-IAM5[Resource::*]',
          reason: 'Step Functions log delivery and X-Ray actions support no resource-level permissions.',
        },
        ...used.map((h) => ({
          id: `AwsSolutions-IAM5[Resource::<${stack.getLogicalId(this.functions[h]!.node.defaultChild as never)}.Arn>:*]`,
          reason: 'Invoking the versions of the function the definition names.',
        })),
      );
      this.stateMachines[kind] = sm;
    }
  }
}

/** Each wildcard resource a function draws, acknowledged by the exact finding with its reason. */
function acknowledgeWildcards(
  fn: ControllerFunction,
  permissions: Permission[],
  env: EnvironmentConfig,
  project: string,
  promotedMachines: readonly string[],
): void {
  const v = Validations.of(fn.role!);
  // As cdk-nag renders the ARNs built above.
  const arn = (service: string, rest: string, region = env.region) =>
    `arn:<AWS::Partition>:${service}:${region}:${env.account}:${rest}`;
  const ack = (resource: string, reason: string) =>
    v.acknowledge({ id: `AwsSolutions-IAM5[Resource::${resource}]`, reason });
  if (permissions.includes('taskDefinitions')) {
    ack(
      arn('iam', 'role/*', ''),
      "PassRole of the stable task definition's task and execution roles, whose names the config does not hold; only to ecs-tasks.",
    );
  }
  if (permissions.some((p) => ['createTaskSet', 'scale', 'primary', 'deleteTaskSet'].includes(p))) {
    for (const s of env.services) {
      ack(
        arn('ecs', `task-set/${s.cluster}/${s.ecsService}/*`),
        'Task sets get a generated id when created; scoped to the configured cluster and service.',
      );
    }
  }
  if (permissions.includes('stop')) {
    for (const k of DEPLOYMENT_KINDS) {
      ack(
        arn('states', `execution:${stateMachineName(project, env.name, k)}:*`),
        "Executions of this environment's own deployment state machines.",
      );
    }
  }
  if (permissions.includes('startDeployments')) {
    for (const name of promotedMachines) {
      ack(
        arn('states', `execution:${name}:*`),
        'Executions of the deployment state machines a promotion starts, in this account and region.',
      );
    }
  }
  if (permissions.includes('alarms')) {
    ack(
      arn('cloudwatch', 'alarm:*'),
      'DescribeAlarms by name is authorised on alarm:*; it only reads alarm states.',
    );
  }
}

const pascal = (s: string) => s.replace(/(^|-)([a-z])/g, (_m, _d, c: string) => c.toUpperCase());
