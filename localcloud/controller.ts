/**
 * The controller side of an environment, provisioned in moto from its synthesized template (never from a second,
 * hand-written description): walked in dependency order, each resource type that moto can hold is created with
 * the template's resolved properties, everything else gets the physical name and ARN CloudFormation would give it
 * so that references to it resolve.
 *
 * | template type                          | in moto                                                            |
 * |----------------------------------------|--------------------------------------------------------------------|
 * | AWS::DynamoDB::GlobalTable / ::Table   | CreateTable with its GSIs, UpdateTimeToLive                         |
 * | AWS::CloudWatch::Alarm                 | PutMetricAlarm                                                     |
 * | AWS::SNS::Topic, AWS::SQS::Queue       | CreateTopic, CreateQueue                                           |
 * | AWS::Events::EventBus                  | CreateEventBus                                                     |
 * | AWS::Events::Rule                      | PutRule with the synthesized pattern; per target an SQS queue as   |
 * |                                        | the target in moto, so that moto's matching decides delivery       |
 * | AWS::StepFunctions::StateMachine       | CreateStateMachine with the resolved, substituted definition       |
 * | Custom::… whose function is a handler  | the handler invoked with a CloudFormation Create event             |
 * | AWS::Lambda::Function                  | not created (moto would need Docker to run it): its handler, from  |
 * |                                        | the `environment-controller:handler` tag, runs in-process          |
 */
import { createHash } from 'node:crypto';
import { PutMetricAlarmCommand, type PutMetricAlarmCommandInput } from '@aws-sdk/client-cloudwatch';
import {
  CreateTableCommand,
  UpdateTimeToLiveCommand,
  type AttributeDefinition,
  type CreateTableCommandInput,
  type KeySchemaElement,
} from '@aws-sdk/client-dynamodb';
import {
  CreateEventBusCommand,
  PutRuleCommand,
  PutTargetsCommand,
  type Target,
} from '@aws-sdk/client-eventbridge';
import { CreateStateMachineCommand } from '@aws-sdk/client-sfn';
import { CreateTopicCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand } from '@aws-sdk/client-sqs';
import { substitute } from '../statemachines/index';
import type { LocalClients } from './clients';
import { handlerModuleExists } from './handlers';
import { IntrinsicResolver, referencedIds, type PhysicalResource, type PseudoParameters } from './intrinsics';
import type { CfnResource, CfnTemplate } from './template';

/** The tag that names the handler (`lambdas/handlers/<kebab>.ts`) a function runs. */
export const HANDLER_TAG = 'environment-controller:handler';

export interface FunctionResource {
  readonly logicalId: string;
  readonly functionName: string;
  readonly arn: string;
  /** The kebab handler name: the tag, else the construct id when a handler module of that name exists. */
  readonly handler?: string;
  /** Its resolved environment variables (TABLE_NAME, topic ARNs, …). */
  readonly environment: Readonly<Record<string, string>>;
}

export type RuleTargetKind = 'function' | 'state-machine' | 'queue' | 'topic' | 'other';

export interface RuleTarget {
  readonly id: string;
  /** The target's ARN in the template, resolved. */
  readonly arn: string;
  readonly kind: RuleTargetKind;
  /** For a function target: the handler it runs. */
  readonly handler?: string;
  /** The target's constant Input (JSON) or InputPath, applied on delivery (moto applies only InputTransformer). */
  readonly input?: string;
  readonly inputPath?: string;
  /** The SQS queue that stands in for the target in moto; absent for a schedule rule's target (not fired locally). */
  readonly queueUrl?: string;
  readonly queueArn?: string;
}

export interface RuleResource {
  readonly logicalId: string;
  readonly name: string;
  readonly arn: string;
  readonly eventBusName: string;
  readonly state: 'ENABLED' | 'DISABLED';
  readonly eventPattern?: unknown;
  readonly scheduleExpression?: string;
  readonly targets: readonly RuleTarget[];
}

export interface StateMachineResource {
  readonly logicalId: string;
  readonly name: string;
  readonly arn: string;
  /** The definition as created in moto: intrinsics resolved, substitutions applied. */
  readonly definition: string;
}

export interface ControllerResources {
  readonly stackName: string;
  /** Every resource of the template by logical id, with what it resolved to. */
  readonly physical: ReadonlyMap<string, PhysicalResource & { readonly provisioned: boolean }>;
  readonly tableName?: string;
  readonly functions: readonly FunctionResource[];
  readonly rules: readonly RuleResource[];
  readonly stateMachines: readonly StateMachineResource[];
  readonly alarms: readonly string[];
  readonly topics: readonly string[];
  readonly queues: readonly string[];
  readonly outputs: Readonly<Record<string, unknown>>;
  /** Resources given names only, with the reason (types moto does not hold, custom resources of CDK's own). */
  readonly notes: readonly string[];
}

export interface CustomResourceInvoker {
  /** Runs the handler of a custom resource's function; returns its PhysicalResourceId and Data. */
  (
    fn: FunctionResource & { readonly handler: string },
    event: Record<string, unknown>,
  ): Promise<{ PhysicalResourceId?: string; Data?: Record<string, unknown> }>;
}

export interface ControllerOptions {
  readonly clients: LocalClients;
  readonly region: string;
  readonly accountId: string;
  readonly stackName: string;
  /** Invokes a custom resource's handler (the registry's). */
  readonly invokeCustomResource: CustomResourceInvoker;
}

/** A CloudFormation-style physical name: stack, logical id, a stable suffix, within a length limit. */
export function physicalName(stackName: string, logicalId: string, limit: number): string {
  const suffix = createHash('sha256')
    .update(`${stackName}/${logicalId}`)
    .digest('hex')
    .slice(0, 12)
    .toUpperCase();
  const base = `${stackName}-${logicalId}`.slice(0, limit - suffix.length - 1);
  return `${base}-${suffix}`;
}

/** The order to create resources in: each after what it refers to, ties in template order. */
export function creationOrder(template: CfnTemplate): string[] {
  const ids = Object.keys(template.Resources);
  const deps = new Map(
    ids.map((id) => {
      const r = template.Resources[id]!;
      const refs = referencedIds(r.Properties ?? {});
      for (const d of [r.DependsOn ?? []].flat()) refs.add(d);
      refs.delete(id);
      return [id, [...refs].filter((d) => d in template.Resources)];
    }),
  );
  const order: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (id: string, path: string[]) => {
    if (state.get(id) === 'done') return;
    if (state.get(id) === 'visiting') throw new Error(`circular references: ${[...path, id].join(' → ')}`);
    state.set(id, 'visiting');
    for (const d of deps.get(id)!) visit(d, [...path, id]);
    state.set(id, 'done');
    order.push(id);
  };
  for (const id of ids) visit(id, []);
  return order;
}

export async function provisionController(
  template: CfnTemplate,
  options: ControllerOptions,
): Promise<ControllerResources> {
  const { clients, region, accountId, stackName } = options;
  const stackId = `arn:aws:cloudformation:${region}:${accountId}:stack/${stackName}/${createHash('sha256').update(stackName).digest('hex').slice(0, 8)}-local`;
  const pseudo: PseudoParameters = { region, accountId, stackName, stackId };
  const physical = new Map<string, PhysicalResource & { provisioned: boolean }>();
  const resolver = new IntrinsicResolver(template, pseudo, physical);
  const arn = (service: string, resource: string, sep = ':') =>
    `arn:aws:${service}:${service === 'iam' ? '' : region}:${accountId}${sep}${resource}`;

  const functions: FunctionResource[] = [];
  const rules: RuleResource[] = [];
  const stateMachines: StateMachineResource[] = [];
  const alarms: string[] = [];
  const topics: string[] = [];
  const queues: string[] = [];
  const notes: string[] = [];
  let tableName: string | undefined;

  const record = (
    logicalId: string,
    type: string,
    ref: string,
    attributes: Record<string, string>,
    provisioned = true,
  ) => {
    physical.set(logicalId, { logicalId, type, ref, attributes, provisioned });
  };
  const props = (r: CfnResource) => (resolver.resolve(r.Properties ?? {}) ?? {}) as Record<string, unknown>;
  const str = (v: unknown) => (v === undefined || v === null ? undefined : String(v));

  const createQueue = async (name: string, attributes: Record<string, string> = {}) => {
    const out = await clients.sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
    const url = out.QueueUrl!;
    return { url, arn: arn('sqs', name) };
  };

  const byType: Record<string, (id: string, r: CfnResource) => Promise<void>> = {
    'AWS::DynamoDB::GlobalTable': (id, r) => table(id, r),
    'AWS::DynamoDB::Table': (id, r) => table(id, r),

    'AWS::CloudWatch::Alarm': async (id, r) => {
      const p = props(r);
      const name = str(p.AlarmName) ?? physicalName(stackName, id, 255);
      await clients.cloudwatch.send(
        new PutMetricAlarmCommand({ ...(p as unknown as PutMetricAlarmCommandInput), AlarmName: name }),
      );
      alarms.push(name);
      record(id, r.Type, name, { Arn: arn('cloudwatch', `alarm:${name}`) });
    },

    'AWS::SNS::Topic': async (id, r) => {
      const p = props(r);
      const fifo = p.FifoTopic === true || p.FifoTopic === 'true';
      const name = str(p.TopicName) ?? physicalName(stackName, id, fifo ? 251 : 256) + (fifo ? '.fifo' : '');
      const attributes: Record<string, string> = {};
      if (p.DisplayName) attributes.DisplayName = String(p.DisplayName);
      if (fifo) attributes.FifoTopic = 'true';
      const out = await clients.sns.send(new CreateTopicCommand({ Name: name, Attributes: attributes }));
      topics.push(out.TopicArn!);
      record(id, r.Type, out.TopicArn!, { TopicArn: out.TopicArn!, TopicName: name });
    },

    'AWS::SQS::Queue': async (id, r) => {
      const p = props(r);
      const fifo = p.FifoQueue === true || p.FifoQueue === 'true';
      const name = str(p.QueueName) ?? physicalName(stackName, id, fifo ? 75 : 80) + (fifo ? '.fifo' : '');
      const attributes: Record<string, string> = {};
      for (const key of [
        'VisibilityTimeout',
        'MessageRetentionPeriod',
        'DelaySeconds',
        'ReceiveMessageWaitTimeSeconds',
      ]) {
        if (p[key] !== undefined) attributes[key] = String(p[key]);
      }
      if (fifo) attributes.FifoQueue = 'true';
      if (p.RedrivePolicy) attributes.RedrivePolicy = JSON.stringify(p.RedrivePolicy);
      const q = await createQueue(name, attributes);
      queues.push(q.url);
      record(id, r.Type, q.url, { Arn: q.arn, QueueName: name, QueueUrl: q.url });
    },

    'AWS::Events::EventBus': async (id, r) => {
      const p = props(r);
      const name = String(p.Name);
      const out = await clients.eventbridge.send(new CreateEventBusCommand({ Name: name }));
      record(id, r.Type, name, { Arn: out.EventBusArn!, Name: name });
    },

    'AWS::Events::Rule': async (id, r) => {
      const p = props(r);
      const name = str(p.Name) ?? physicalName(stackName, id, 64);
      const eventBusName = busName(str(p.EventBusName));
      const out = await clients.eventbridge.send(
        new PutRuleCommand({
          Name: name,
          EventBusName: eventBusName,
          ...(p.EventPattern ? { EventPattern: JSON.stringify(p.EventPattern) } : {}),
          ...(p.ScheduleExpression ? { ScheduleExpression: String(p.ScheduleExpression) } : {}),
          State: (str(p.State) as 'ENABLED' | 'DISABLED' | undefined) ?? 'ENABLED',
          ...(p.Description ? { Description: String(p.Description) } : {}),
        }),
      );
      const targets: RuleTarget[] = [];
      for (const t of (p.Targets ?? []) as Record<string, unknown>[]) {
        const targetArn = String(t.Arn);
        const fn = functions.find((f) => f.arn === targetArn);
        const target = {
          id: String(t.Id),
          arn: targetArn,
          kind: targetKind(targetArn),
          ...(fn?.handler ? { handler: fn.handler } : {}),
          ...(t.Input !== undefined ? { input: String(t.Input) } : {}),
          ...(t.InputPath !== undefined ? { inputPath: String(t.InputPath) } : {}),
        };
        // moto matches a rule without a pattern against every event: only pattern rules get a stand-in queue.
        if (!p.EventPattern) {
          targets.push(target);
          continue;
        }
        const queue = await createQueue(
          `localcloud-${createHash('sha256').update(`${name}/${target.id}`).digest('hex').slice(0, 16)}`,
        );
        await clients.eventbridge.send(
          new PutTargetsCommand({
            Rule: name,
            EventBusName: eventBusName,
            Targets: [
              {
                Id: target.id,
                Arn: queue.arn,
                ...(t.InputTransformer
                  ? { InputTransformer: t.InputTransformer as Target['InputTransformer'] }
                  : {}),
              },
            ],
          }),
        );
        targets.push({ ...target, queueUrl: queue.url, queueArn: queue.arn });
      }
      if (!p.EventPattern)
        notes.push(`${id}: schedule rule ${String(p.ScheduleExpression)} is created but not fired locally`);
      rules.push({
        logicalId: id,
        name,
        arn: out.RuleArn!,
        eventBusName,
        state: str(p.State) === 'DISABLED' ? 'DISABLED' : 'ENABLED',
        ...(p.EventPattern ? { eventPattern: p.EventPattern } : {}),
        ...(p.ScheduleExpression ? { scheduleExpression: String(p.ScheduleExpression) } : {}),
        targets,
      });
      record(id, r.Type, name, { Arn: out.RuleArn! });
    },

    'AWS::StepFunctions::StateMachine': async (id, r) => {
      const p = props(r);
      const name = str(p.StateMachineName) ?? physicalName(stackName, id, 80);
      let definition =
        typeof p.DefinitionString === 'string'
          ? p.DefinitionString
          : p.Definition !== undefined
            ? JSON.stringify(p.Definition)
            : undefined;
      if (definition === undefined)
        throw new Error(`${id}: only DefinitionString or Definition is supported locally`);
      if (p.DefinitionSubstitutions) {
        const values = Object.fromEntries(
          Object.entries(p.DefinitionSubstitutions as object).map(([k, v]) => [k, String(v)]),
        );
        definition = substitute(definition, values);
      }
      const out = await clients.sfn.send(
        new CreateStateMachineCommand({
          name,
          definition,
          roleArn: str(p.RoleArn) ?? arn('iam', `role/${name}`),
          type: (str(p.StateMachineType) as 'STANDARD' | 'EXPRESS' | undefined) ?? 'STANDARD',
        }),
      );
      stateMachines.push({ logicalId: id, name, arn: out.stateMachineArn!, definition });
      record(id, r.Type, out.stateMachineArn!, { Arn: out.stateMachineArn!, Name: name });
    },

    'AWS::Lambda::Function': async (id, r) => {
      const p = props(r);
      const name = str(p.FunctionName) ?? physicalName(stackName, id, 64);
      const functionArn = arn('lambda', `function:${name}`);
      const variables = ((p.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ??
        {}) as Record<string, unknown>;
      const handler = handlerOf(r);
      functions.push({
        logicalId: id,
        functionName: name,
        arn: functionArn,
        ...(handler ? { handler } : {}),
        environment: Object.fromEntries(Object.entries(variables).map(([k, v]) => [k, String(v)])),
      });
      record(id, r.Type, name, { Arn: functionArn }, false);
    },
  };

  async function table(id: string, r: CfnResource): Promise<void> {
    const p = props(r);
    const name = str(p.TableName) ?? physicalName(stackName, id, 255);
    const gsis = (p.GlobalSecondaryIndexes ?? []) as {
      IndexName: string;
      KeySchema: KeySchemaElement[];
      Projection: object;
    }[];
    const provisioned = p.BillingMode === 'PROVISIONED';
    const throughput = { ReadCapacityUnits: 5, WriteCapacityUnits: 5 };
    const stream = p.StreamSpecification as { StreamViewType?: string } | undefined;
    const input: CreateTableCommandInput = {
      TableName: name,
      AttributeDefinitions: p.AttributeDefinitions as AttributeDefinition[],
      KeySchema: p.KeySchema as KeySchemaElement[],
      BillingMode: provisioned ? 'PROVISIONED' : 'PAY_PER_REQUEST',
      ...(provisioned ? { ProvisionedThroughput: throughput } : {}),
      ...(gsis.length > 0
        ? {
            GlobalSecondaryIndexes: gsis.map((g) => ({
              IndexName: g.IndexName,
              KeySchema: g.KeySchema,
              Projection: g.Projection,
              ...(provisioned ? { ProvisionedThroughput: throughput } : {}),
            })),
          }
        : {}),
      ...(stream?.StreamViewType
        ? {
            StreamSpecification: {
              StreamEnabled: true,
              StreamViewType: stream.StreamViewType as 'NEW_AND_OLD_IMAGES',
            },
          }
        : {}),
    };
    const out = await clients.dynamodb.send(new CreateTableCommand(input));
    const ttl = p.TimeToLiveSpecification as { AttributeName?: string; Enabled?: boolean } | undefined;
    if (ttl?.Enabled && ttl.AttributeName) {
      await clients.dynamodb.send(
        new UpdateTimeToLiveCommand({
          TableName: name,
          TimeToLiveSpecification: { AttributeName: ttl.AttributeName, Enabled: true },
        }),
      );
    }
    tableName ??= name;
    const attributes: Record<string, string> = { Arn: out.TableDescription!.TableArn! };
    if (out.TableDescription?.LatestStreamArn) attributes.StreamArn = out.TableDescription.LatestStreamArn;
    record(id, r.Type, name, attributes);
  }

  function busName(name: string | undefined): string {
    if (!name) return 'default';
    return name.startsWith('arn:') ? name.split('/').at(-1)! : name;
  }

  function targetKind(targetArn: string): RuleTargetKind {
    const service = targetArn.split(':')[2];
    if (service === 'lambda') return 'function';
    if (service === 'states') return 'state-machine';
    if (service === 'sqs') return 'queue';
    if (service === 'sns') return 'topic';
    return 'other';
  }

  /** The tag, else the construct id (`<stack>/<Id>/Resource`) in kebab case if such a handler module exists. */
  function handlerOf(r: CfnResource): string | undefined {
    const tags = r.Properties?.Tags;
    const tagged = Array.isArray(tags)
      ? (tags as { Key: string; Value: unknown }[]).find((t) => t.Key === HANDLER_TAG)?.Value
      : undefined;
    if (typeof tagged === 'string') return tagged;
    const cdkPath = r.Metadata?.['aws:cdk:path'];
    const constructId = typeof cdkPath === 'string' ? cdkPath.split('/').at(-2) : undefined;
    const kebab = constructId?.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();
    return kebab && handlerModuleExists(kebab) ? kebab : undefined;
  }

  async function customResource(id: string, r: CfnResource): Promise<void> {
    const p = props(r);
    const token = String(p.ServiceToken);
    let fn = functions.find((f) => f.arn === token);
    // The CDK provider framework relays to the user's function: follow it.
    const relayed = fn?.environment.USER_ON_EVENT_FUNCTION_ARN;
    if (relayed) fn = functions.find((f) => f.arn === relayed) ?? fn;
    if (!fn?.handler) {
      notes.push(`${id} (${r.Type}): its function is not one of the project's handlers; not run`);
      record(id, r.Type, physicalName(stackName, id, 255), {}, false);
      return;
    }
    const event = {
      RequestType: 'Create',
      ServiceToken: token,
      ResponseURL: 'http://127.0.0.1/localcloud-unused',
      StackId: stackId,
      RequestId: createHash('sha256').update(`${stackId}/${id}`).digest('hex').slice(0, 32),
      LogicalResourceId: id,
      ResourceType: r.Type,
      ResourceProperties: p,
    };
    const out = await options.invokeCustomResource({ ...fn, handler: fn.handler }, event);
    const data = Object.fromEntries(Object.entries(out.Data ?? {}).map(([k, v]) => [k, String(v)]));
    record(id, r.Type, out.PhysicalResourceId ?? event.RequestId, data);
  }

  /** A resource moto does not hold here: the names and ARN CloudFormation would give it. */
  function nameOnly(id: string, r: CfnResource): void {
    const [, service = 'unknown', kind = 'resource'] = r.Type.split('::');
    const svc = service.toLowerCase();
    const name = physicalName(stackName, id, 64);
    const attributes: Record<string, string> = {};
    if (r.Type === 'AWS::IAM::Role') attributes.Arn = arn('iam', `role/${name}`);
    else if (r.Type === 'AWS::Logs::LogGroup') {
      const groupName = String(resolver.resolve(r.Properties?.LogGroupName) ?? `/aws/local/${name}`);
      attributes.Arn = arn('logs', `log-group:${groupName}:*`);
      record(id, r.Type, groupName, attributes, false);
      return;
    } else attributes.Arn = arn(svc, `${kind.toLowerCase()}/${name}`);
    record(id, r.Type, name, attributes, false);
  }

  for (const id of creationOrder(template)) {
    const r = template.Resources[id]!;
    if (r.Condition && !resolver.condition(r.Condition)) continue;
    const provision = byType[r.Type];
    if (provision) await provision(id, r);
    else if (r.Type.startsWith('Custom::') || r.Type === 'AWS::CloudFormation::CustomResource')
      await customResource(id, r);
    else nameOnly(id, r);
  }

  const outputs: Record<string, unknown> = {};
  for (const [key, output] of Object.entries(template.Outputs ?? {}))
    outputs[key] = resolver.resolve(output.Value);

  return {
    stackName,
    physical,
    ...(tableName ? { tableName } : {}),
    functions,
    rules,
    stateMachines,
    alarms,
    topics,
    queues,
    outputs,
    notes,
  };
}
