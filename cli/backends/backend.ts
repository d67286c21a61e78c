/**
 * Where the CLI's commands act: one environment's controller, in AWS or in the local cloud. Both give the same
 * thing, the stack's outputs and clients the engine's adapters take, so that every command is written once.
 */
import type { EnvironmentConfig, ProjectConfig } from '../../lambdas/domain/config';
import type { Deps } from '../../lambdas/runtime/deps';
import { STATE_MACHINE_KINDS, type StateMachineKind } from '../../statemachines';
import { UsageError } from '../context';

/** What the CLI reads from an environment's stack outputs. */
export interface StackOutputs {
  /** The deployments table. */
  readonly tableName: string;
  readonly notificationTopicArn?: string;
  /** Each state machine the stack holds, by kind. */
  readonly stateMachineArns: Readonly<Partial<Record<StateMachineKind, string>>>;
}

/** One environment's controller, ready to use. */
export interface Target {
  readonly kind: 'aws' | 'local';
  /**
   * A local cloud started for this one command: nothing outside the command can reach it, so an approval it
   * waits for can only be decided by the command itself (`--local-approval`).
   */
  readonly ephemeral: boolean;
  readonly project: string;
  /** The environment as this backend knows it (the local cloud's resources carry moto's ARNs). */
  readonly environment: EnvironmentConfig;
  readonly stackName: string;
  readonly outputs: StackOutputs;
  /** Clients, table and clock for the engine's adapters, with the CLI user's own credentials. */
  readonly deps: Deps;
  /** Waits between two reads of something being followed. */
  pause(): Promise<void>;
  /** The Step Functions console page of an execution; undefined in the local cloud. */
  consoleUrl(executionArn: string): string | undefined;
}

export interface Backend {
  /** The controller of an environment; a user's mistake (no such stack, not in this cloud) is a UsageError. */
  open(environment: string): Promise<Target>;
  /** Releases what the backend holds (the local cloud stops). */
  close(): Promise<void>;
}

export interface BackendRequest {
  /** `--local`: a fresh local cloud for this command. */
  readonly local: boolean;
  readonly config: ProjectConfig;
  /** The environment the command is about (the one the local cloud runs). */
  readonly environment: string;
}

/** How commands get their backend; tests pass one bound to a cloud they started. */
export type BackendFactory = (request: BackendRequest) => Promise<Backend>;

const pascal = (kind: string) => kind.replace(/(^|-)([a-z])/g, (_m, _d, c: string) => c.toUpperCase());

/** The outputs the stack declares (`lib/stacks/environment-controller-stack.ts`), by their keys. */
export function parseOutputs(stackName: string, outputs: Readonly<Record<string, unknown>>): StackOutputs {
  const text = (key: string) => (typeof outputs[key] === 'string' ? (outputs[key] as string) : undefined);
  const tableName = text('TableName');
  if (!tableName) throw new UsageError(`stack ${stackName} has no TableName output: is it this project's?`);
  const stateMachineArns: Partial<Record<StateMachineKind, string>> = {};
  for (const kind of STATE_MACHINE_KINDS) {
    const arn = text(`${pascal(kind)}StateMachineArn`);
    if (arn) stateMachineArns[kind] = arn;
  }
  const notificationTopicArn = text('NotificationTopicArn');
  return { tableName, stateMachineArns, ...(notificationTopicArn ? { notificationTopicArn } : {}) };
}

/** The ARN of one of the target's state machines; a stack deployed before that kind existed says so. */
export function stateMachineArn(target: Target, kind: StateMachineKind): string {
  const arn = target.outputs.stateMachineArns[kind];
  if (!arn) {
    throw new UsageError(
      `stack ${target.stackName} has no ${kind} state machine (no ${pascal(kind)}StateMachineArn output): deploy the current version of the stack`,
    );
  }
  return arn;
}
