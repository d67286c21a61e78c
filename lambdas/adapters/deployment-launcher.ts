/**
 * Deployment launcher: what the promotion pipeline does with another environment's deployment state machine,
 * start an execution and read how it stands. Takes its client from outside.
 */
import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  StartExecutionCommand,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import { awsCall } from './aws-call';

export interface ExecutionView {
  readonly status: string;
  readonly error?: string;
  readonly cause?: string;
  /** The output (JSON text) of an execution that succeeded. */
  readonly output?: string;
}

export interface DeploymentLauncher {
  /**
   * Starts an execution by name; starting it again with the same name (a retried step) returns the same ARN.
   * Returns the execution ARN.
   */
  start(stateMachineArn: string, name: string, input: unknown): Promise<string>;
  describe(executionArn: string): Promise<ExecutionView>;
}

export class SfnDeploymentLauncher implements DeploymentLauncher {
  constructor(private readonly sfn: SFNClient) {}

  async start(stateMachineArn: string, name: string, input: unknown): Promise<string> {
    try {
      const out = await awsCall(() =>
        this.sfn.send(new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) })),
      );
      return out.executionArn!;
    } catch (err) {
      // A retry after the execution already ended: it is the same execution (the name is unique per machine).
      if (err instanceof ExecutionAlreadyExists || (err as Error).name === 'ExecutionAlreadyExists') {
        return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
      }
      throw err;
    }
  }

  async describe(executionArn: string): Promise<ExecutionView> {
    const out = await awsCall(() => this.sfn.send(new DescribeExecutionCommand({ executionArn })));
    return {
      status: out.status ?? 'RUNNING',
      ...(out.error ? { error: out.error } : {}),
      ...(out.cause ? { cause: out.cause } : {}),
      ...(out.output !== undefined ? { output: out.output } : {}),
    };
  }
}
