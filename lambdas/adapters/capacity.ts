/**
 * Capacity manager: the ECS service's task sets (EXTERNAL deployment controller) and task definitions.
 */
import {
  CreateTaskSetCommand,
  DeleteTaskSetCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  RegisterTaskDefinitionCommand,
  UpdateServicePrimaryTaskSetCommand,
  UpdateTaskSetCommand,
  type ECSClient,
  type RegisterTaskDefinitionCommandInput,
  type TaskSet,
} from '@aws-sdk/client-ecs';
import { DeploymentStepError } from '../domain/errors';
import { awsCall } from './aws-call';

export interface TaskSetInfo {
  readonly arn: string;
  readonly id: string;
  readonly status: 'PRIMARY' | 'ACTIVE' | 'DRAINING' | string;
  readonly taskDefinitionArn: string;
  readonly externalId?: string;
  readonly scale: number;
  readonly targetGroupArn?: string;
  readonly steady: boolean;
  readonly runningCount: number;
  readonly computedDesiredCount: number;
}

export interface ServiceInfo {
  readonly serviceArn: string;
  readonly status: string;
  readonly controller: string;
  readonly desiredCount: number;
  readonly taskSets: readonly TaskSetInfo[];
}

export interface ServiceRef {
  readonly cluster: string;
  readonly service: string;
}

export interface CapacityManager {
  describe(ref: ServiceRef): Promise<ServiceInfo>;
  imageOf(taskDefinitionArn: string, containerName: string): Promise<string>;
  registerCandidate(stableTaskDefinitionArn: string, containerName: string, image: string): Promise<string>;
  createTaskSet(ref: ServiceRef, args: CreateTaskSetArgs): Promise<TaskSetInfo>;
  setScale(ref: ServiceRef, taskSetArn: string, scale: number): Promise<void>;
  makePrimary(ref: ServiceRef, taskSetArn: string): Promise<void>;
  deleteTaskSet(ref: ServiceRef, taskSetArn: string): Promise<void>;
}

export interface CreateTaskSetArgs {
  readonly taskDefinitionArn: string;
  readonly targetGroupArn: string;
  readonly containerName: string;
  readonly containerPort: number;
  readonly scale: number;
  /** The deployment id: finds the task set again on a retried step instead of creating a second one. */
  readonly externalId: string;
  /** Network configuration and launch type are copied from the stable task set. */
  readonly like?: TaskSet;
}

export class EcsCapacityManager implements CapacityManager {
  private readonly rawTaskSets = new Map<string, TaskSet>();

  constructor(private readonly ecs: ECSClient) {}

  async describe(ref: ServiceRef): Promise<ServiceInfo> {
    const out = await awsCall(() =>
      this.ecs.send(new DescribeServicesCommand({ cluster: ref.cluster, services: [ref.service] })),
    );
    const svc = out.services?.[0];
    if (!svc || svc.status === 'INACTIVE') {
      throw new DeploymentStepError(`ECS service ${ref.service} not found in cluster ${ref.cluster}`);
    }
    const taskSets = (svc.taskSets ?? []).map((ts) => {
      this.rawTaskSets.set(ts.taskSetArn!, ts);
      return toInfo(ts);
    });
    return {
      serviceArn: svc.serviceArn!,
      status: svc.status ?? 'UNKNOWN',
      controller: svc.deploymentController?.type ?? 'ECS',
      desiredCount: svc.desiredCount ?? 0,
      taskSets,
    };
  }

  /** The raw task set as last described, to copy its network configuration. */
  raw(taskSetArn: string): TaskSet | undefined {
    return this.rawTaskSets.get(taskSetArn);
  }

  async imageOf(taskDefinitionArn: string, containerName: string): Promise<string> {
    const td = await this.taskDefinition(taskDefinitionArn);
    const container = td.containerDefinitions?.find((c) => c.name === containerName);
    if (!container?.image)
      throw new DeploymentStepError(`task definition ${taskDefinitionArn} has no container ${containerName}`);
    return container.image;
  }

  /** A new revision of the stable task definition with the candidate image in the named container. */
  async registerCandidate(
    stableTaskDefinitionArn: string,
    containerName: string,
    image: string,
  ): Promise<string> {
    const td = await this.taskDefinition(stableTaskDefinitionArn);
    if (!td.containerDefinitions?.some((c) => c.name === containerName)) {
      throw new DeploymentStepError(
        `task definition ${stableTaskDefinitionArn} has no container ${containerName}`,
      );
    }
    const input: RegisterTaskDefinitionCommandInput = {
      family: td.family!,
      containerDefinitions: td.containerDefinitions.map((c) =>
        c.name === containerName ? { ...c, image } : c,
      ),
      taskRoleArn: td.taskRoleArn,
      executionRoleArn: td.executionRoleArn,
      networkMode: td.networkMode,
      volumes: td.volumes,
      placementConstraints: td.placementConstraints,
      requiresCompatibilities: td.requiresCompatibilities,
      cpu: td.cpu,
      memory: td.memory,
      runtimePlatform: td.runtimePlatform,
      ephemeralStorage: td.ephemeralStorage,
    };
    const out = await awsCall(() => this.ecs.send(new RegisterTaskDefinitionCommand(input)));
    return out.taskDefinition!.taskDefinitionArn!;
  }

  async createTaskSet(ref: ServiceRef, args: CreateTaskSetArgs): Promise<TaskSetInfo> {
    const out = await awsCall(() =>
      this.ecs.send(
        new CreateTaskSetCommand({
          cluster: ref.cluster,
          service: ref.service,
          taskDefinition: args.taskDefinitionArn,
          externalId: args.externalId,
          clientToken: args.externalId.slice(0, 36),
          loadBalancers: [
            {
              targetGroupArn: args.targetGroupArn,
              containerName: args.containerName,
              containerPort: args.containerPort,
            },
          ],
          scale: { unit: 'PERCENT', value: args.scale },
          launchType: args.like?.capacityProviderStrategy?.length
            ? undefined
            : (args.like?.launchType ?? 'FARGATE'),
          capacityProviderStrategy: args.like?.capacityProviderStrategy?.length
            ? args.like.capacityProviderStrategy
            : undefined,
          platformVersion: args.like?.platformVersion,
          networkConfiguration: args.like?.networkConfiguration,
        }),
      ),
    );
    return toInfo(out.taskSet!);
  }

  async setScale(ref: ServiceRef, taskSetArn: string, scale: number): Promise<void> {
    await awsCall(() =>
      this.ecs.send(
        new UpdateTaskSetCommand({
          cluster: ref.cluster,
          service: ref.service,
          taskSet: taskSetArn,
          scale: { unit: 'PERCENT', value: scale },
        }),
      ),
    );
  }

  async makePrimary(ref: ServiceRef, taskSetArn: string): Promise<void> {
    await awsCall(() =>
      this.ecs.send(
        new UpdateServicePrimaryTaskSetCommand({
          cluster: ref.cluster,
          service: ref.service,
          primaryTaskSet: taskSetArn,
        }),
      ),
    );
  }

  async deleteTaskSet(ref: ServiceRef, taskSetArn: string): Promise<void> {
    try {
      await awsCall(() =>
        this.ecs.send(
          new DeleteTaskSetCommand({
            cluster: ref.cluster,
            service: ref.service,
            taskSet: taskSetArn,
            force: true,
          }),
        ),
      );
    } catch (err) {
      // Already gone: deleting is idempotent.
      if ((err as Error).name === 'TaskSetNotFoundException') return;
      throw err;
    }
  }

  private async taskDefinition(arn: string) {
    const out = await awsCall(() =>
      this.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: arn })),
    );
    if (!out.taskDefinition) throw new DeploymentStepError(`task definition ${arn} not found`);
    return out.taskDefinition;
  }
}

function toInfo(ts: TaskSet): TaskSetInfo {
  return {
    arn: ts.taskSetArn!,
    id: ts.id!,
    status: ts.status ?? 'ACTIVE',
    taskDefinitionArn: ts.taskDefinition!,
    externalId: ts.externalId || undefined,
    scale: ts.scale?.value ?? 0,
    targetGroupArn: ts.loadBalancers?.[0]?.targetGroupArn,
    steady: ts.stabilityStatus === 'STEADY_STATE',
    runningCount: ts.runningCount ?? 0,
    computedDesiredCount: ts.computedDesiredCount ?? 0,
  };
}
