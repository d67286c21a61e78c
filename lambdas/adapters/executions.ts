/**
 * Execution control: stopping a deployment's execution and answering its approval task token.
 */
import {
  DescribeExecutionCommand,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  StopExecutionCommand,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import { awsCall } from './aws-call';

export interface ExecutionControl {
  /** Stops a running execution; stopping one that already ended is not an error. */
  stop(executionArn: string, error: string, cause: string): Promise<void>;
  status(executionArn: string): Promise<string | undefined>;
  approve(taskToken: string, output: unknown): Promise<void>;
  reject(taskToken: string, error: string, cause: string): Promise<void>;
}

export class SfnExecutionControl implements ExecutionControl {
  constructor(private readonly sfn: SFNClient) {}

  async stop(executionArn: string, error: string, cause: string): Promise<void> {
    try {
      await awsCall(() =>
        this.sfn.send(
          new StopExecutionCommand({
            executionArn,
            error: error.slice(0, 256),
            cause: cause.slice(0, 32_768),
          }),
        ),
      );
    } catch (err) {
      if ((err as Error).name === 'ExecutionDoesNotExist' || (err as Error).name === 'ExecutionNotRunning')
        return;
      throw err;
    }
  }

  async status(executionArn: string): Promise<string | undefined> {
    try {
      const out = await awsCall(() => this.sfn.send(new DescribeExecutionCommand({ executionArn })));
      return out.status;
    } catch (err) {
      if ((err as Error).name === 'ExecutionDoesNotExist') return undefined;
      throw err;
    }
  }

  async approve(taskToken: string, output: unknown): Promise<void> {
    await awsCall(() =>
      this.sfn.send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify(output) })),
    );
  }

  async reject(taskToken: string, error: string, cause: string): Promise<void> {
    await awsCall(() => this.sfn.send(new SendTaskFailureCommand({ taskToken, error, cause })));
  }
}
