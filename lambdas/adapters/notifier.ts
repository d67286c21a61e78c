/**
 * Notifier: deployment events to the environment's SNS topic, and pages for rollbacks that failed.
 */
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { executionConsoleUrl } from '../domain/links';
import { awsCall } from './aws-call';

export interface Notification {
  readonly event:
    | 'started'
    | 'awaiting-approval'
    | 'succeeded'
    | 'rolled-back'
    | 'failed'
    | 'rejected'
    | 'promotion-stopped'
    | 'rollback-failed';
  readonly environment: string;
  readonly service: string;
  readonly deploymentId?: string;
  readonly message: string;
  readonly [key: string]: unknown;
}

export interface Notifier {
  notify(n: Notification): Promise<void>;
  page(n: Notification): Promise<void>;
}

export class SnsNotifier implements Notifier {
  constructor(
    private readonly sns: SNSClient,
    private readonly topicArn: string | undefined,
    private readonly alertTopicArn: string | undefined,
  ) {}

  notify(n: Notification): Promise<void> {
    return this.publish(this.topicArn, n);
  }

  page(n: Notification): Promise<void> {
    return this.publish(this.alertTopicArn, n);
  }

  private async publish(topicArn: string | undefined, n: Notification): Promise<void> {
    if (!topicArn) return;
    // Every event links to its execution in the Step Functions console.
    const message =
      typeof n.executionArn === 'string' && n.consoleUrl === undefined
        ? { ...n, consoleUrl: executionConsoleUrl(n.executionArn) }
        : n;
    await awsCall(() =>
      this.sns.send(
        new PublishCommand({
          TopicArn: topicArn,
          Subject: `[${n.environment}] ${n.service}: ${n.event}`.slice(0, 99),
          Message: JSON.stringify(message),
          MessageAttributes: {
            event: { DataType: 'String', StringValue: n.event },
            environment: { DataType: 'String', StringValue: n.environment },
            service: { DataType: 'String', StringValue: n.service },
          },
        }),
      ),
    );
  }
}
