/**
 * Event delivery as EventBridge does it, with moto deciding what matches: an event is put on moto's bus; every
 * rule created from the template (or added by a test) has an SQS queue in moto as the stand-in for each of its
 * targets; whatever lands in a queue is handed to the handler of the target it stands in for. A rule whose
 * pattern does not match the event receives nothing.
 *
 * Handlers run one after another, in rule order, after the queues are drained; a handler's failure is reported in
 * its delivery (EventBridge invokes Lambda asynchronously: the publisher never sees the failure either).
 */
import { createHash } from 'node:crypto';
import { PutEventsCommand, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { CreateQueueCommand, DeleteMessageBatchCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { LocalClients } from './clients';
import type { RuleResource, RuleTarget } from './controller';
import { readPath } from './definition';
import type { HandlerRegistry } from './handlers';
import type { Clock } from '../lambdas/runtime/clients';

/** An event to publish, in the terms AWS services send it. */
export interface LocalEvent {
  readonly source: string;
  readonly 'detail-type': string;
  readonly detail: Record<string, unknown>;
  readonly resources?: readonly string[];
  /** @default the simulated clock's now */
  readonly time?: Date;
  /** @default 'default' */
  readonly eventBusName?: string;
}

/** An event as a target receives it. */
export interface DeliveredEvent {
  readonly version: string;
  readonly id: string;
  readonly 'detail-type': string;
  readonly source: string;
  readonly account: string;
  readonly time: string;
  readonly region: string;
  readonly resources: string[];
  readonly detail: Record<string, unknown>;
}

export interface Delivery {
  readonly rule: string;
  readonly targetId: string;
  readonly targetArn: string;
  /** The handler that received it; absent when the target is not one of the project's handlers. */
  readonly handler?: string;
  readonly event: unknown;
  /** What the handler returned. */
  readonly result?: unknown;
  /** The handler's failure, if it threw. */
  readonly error?: { readonly name: string; readonly message: string };
}

export interface PublishResult {
  readonly eventId: string;
  readonly deliveries: readonly Delivery[];
}

export interface TestRuleOptions {
  readonly name: string;
  readonly eventPattern: Record<string, unknown>;
  /** The handler (kebab name) the rule's one target runs. */
  readonly handler: string;
  /** @default 'default' */
  readonly eventBusName?: string;
}

export class EventPublishError extends Error {
  override readonly name = 'EventPublishError';
}

export class LocalEventBus {
  private readonly rules: RuleResource[];
  private queue: Promise<unknown> = Promise.resolve();
  private readonly log: (PublishResult & { readonly event: LocalEvent })[] = [];

  constructor(
    private readonly clients: LocalClients,
    private readonly clock: Clock,
    private readonly handlers: HandlerRegistry,
    private readonly region: string,
    private readonly accountId: string,
    rules: readonly RuleResource[],
  ) {
    this.rules = [...rules];
  }

  /** The rules events are matched against: the template's and any added since. */
  get ruleList(): readonly RuleResource[] {
    return this.rules;
  }

  /** Every publish so far, in order, with what it delivered. */
  get published(): readonly (PublishResult & { readonly event: LocalEvent })[] {
    return this.log;
  }

  /**
   * Creates a rule in moto with `eventPattern` and one target standing for `handler` (for tests, and for rules
   * that do not come from the template).
   */
  async addRule(options: TestRuleOptions): Promise<RuleResource> {
    const eventBusName = options.eventBusName ?? 'default';
    const out = await this.clients.eventbridge.send(
      new PutRuleCommand({
        Name: options.name,
        EventBusName: eventBusName,
        EventPattern: JSON.stringify(options.eventPattern),
        State: 'ENABLED',
      }),
    );
    const functionArn = `arn:aws:lambda:${this.region}:${this.accountId}:function:localcloud-${options.handler}`;
    const queueName = `localcloud-${createHash('sha256').update(`${options.name}/handler`).digest('hex').slice(0, 16)}`;
    const queue = await this.clients.sqs.send(new CreateQueueCommand({ QueueName: queueName }));
    const queueArn = `arn:aws:sqs:${this.region}:${this.accountId}:${queueName}`;
    await this.clients.eventbridge.send(
      new PutTargetsCommand({
        Rule: options.name,
        EventBusName: eventBusName,
        Targets: [{ Id: 'handler', Arn: queueArn }],
      }),
    );
    const target: RuleTarget = {
      id: 'handler',
      arn: functionArn,
      kind: 'function',
      handler: options.handler,
      queueUrl: queue.QueueUrl!,
      queueArn,
    };
    const rule: RuleResource = {
      logicalId: options.name,
      name: options.name,
      arn: out.RuleArn!,
      eventBusName,
      state: 'ENABLED',
      eventPattern: options.eventPattern,
      targets: [target],
    };
    this.rules.push(rule);
    return rule;
  }

  /**
   * Puts the event on moto's bus and hands what each matching rule's targets received to their handlers.
   * Publishes are serialized, so that each one reports exactly its own deliveries.
   */
  publish(event: LocalEvent): Promise<PublishResult> {
    const received = this.queue.then(() => this.putAndDrain(event));
    this.queue = received.catch(() => undefined);
    return received.then(async ({ eventId, arrivals }) => {
      const deliveries: Delivery[] = [];
      for (const { rule, target, body } of arrivals) deliveries.push(await this.deliver(rule, target, body));
      const result = { eventId, deliveries };
      this.log.push({ ...result, event });
      return result;
    });
  }

  private async putAndDrain(event: LocalEvent) {
    const out = await this.clients.eventbridge.send(
      new PutEventsCommand({
        Entries: [
          {
            Source: event.source,
            DetailType: event['detail-type'],
            Detail: JSON.stringify(event.detail),
            Resources: [...(event.resources ?? [])],
            Time: event.time ?? this.clock.now(),
            EventBusName: event.eventBusName ?? 'default',
          },
        ],
      }),
    );
    const entry = out.Entries?.[0];
    if (!entry?.EventId)
      throw new EventPublishError(`PutEvents refused the event: ${entry?.ErrorCode} ${entry?.ErrorMessage}`);
    const arrivals: { rule: RuleResource; target: RuleTarget; body: unknown }[] = [];
    for (const rule of this.rules) {
      for (const target of rule.targets) {
        if (!target.queueUrl) continue;
        for (const body of await this.drain(target.queueUrl)) {
          // moto also sends to disabled rules' targets; EventBridge does not.
          if (rule.state !== 'DISABLED')
            arrivals.push({ rule, target, body: this.asDelivered(target, body) });
        }
      }
    }
    return { eventId: entry.EventId, arrivals };
  }

  private async drain(queueUrl: string): Promise<unknown[]> {
    const bodies: unknown[] = [];
    for (;;) {
      const out = await this.clients.sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
      );
      const messages = out.Messages ?? [];
      if (messages.length === 0) return bodies;
      for (const m of messages) bodies.push(JSON.parse(m.Body!));
      await this.clients.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
        }),
      );
    }
  }

  /**
   * What the target receives: the Input or InputPath of the target applied (moto applies only InputTransformer);
   * an event without moto's `ingestion-time` and with the `account` moto's default template leaves out.
   */
  private asDelivered(target: RuleTarget, body: unknown): unknown {
    if (target.input !== undefined) return JSON.parse(target.input);
    const event = body as Record<string, unknown>;
    if (target.inputPath !== undefined) return readPath(event, target.inputPath);
    if (event && typeof event === 'object' && 'detail-type' in event && 'source' in event) {
      const { ['ingestion-time']: _ignored, ...rest } = event;
      return {
        version: rest.version,
        id: rest.id,
        'detail-type': rest['detail-type'],
        source: rest.source,
        account: this.accountId,
        ...rest,
      };
    }
    return body;
  }

  private async deliver(rule: RuleResource, target: RuleTarget, event: unknown): Promise<Delivery> {
    const base = { rule: rule.name, targetId: target.id, targetArn: target.arn, event };
    if (target.kind !== 'function' || !target.handler) return base;
    try {
      const result = await this.handlers.invoke(target.handler, event);
      return { ...base, handler: target.handler, result };
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      return { ...base, handler: target.handler, error: { name: e.name, message: e.message } };
    }
  }
}
