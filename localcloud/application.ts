/**
 * The application side of an environment, provisioned in moto from the config: what a platform team already runs
 * before it installs the controller. Per service: its cluster, a task definition, an ALB (shared by the services
 * whose listeners the config puts on one load balancer), the production listener (or a rule on it) forwarding to
 * the blue and green target groups at 100/0, the optional test listener, an ECS service with the EXTERNAL
 * deployment controller and its stable task set in the blue slot at scale 100, primary.
 *
 * The result is the config rewritten with moto's real ARNs, validated again like any config.
 */
import {
  CreateClusterCommand,
  CreateServiceCommand,
  CreateTaskSetCommand,
  RegisterTaskDefinitionCommand,
  UpdateServicePrimaryTaskSetCommand,
  type ECSClient,
} from '@aws-sdk/client-ecs';
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateRuleCommand,
  CreateTargetGroupCommand,
  type Action,
  type ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import {
  parseProjectConfig,
  type EnvironmentConfig,
  type ProjectConfig,
  type ServiceConfig,
} from '../lambdas/domain/config';
import { createNetwork, type Network } from './ec2';

/** The image the stable task set runs, unless told otherwise. */
export const DEFAULT_STABLE_IMAGE = 'public.ecr.aws/nginx/nginx:1.27';

export interface ApplicationOptions {
  readonly ecs: ECSClient;
  readonly elb: ElasticLoadBalancingV2Client;
  /** For the EC2 calls (network), which go to moto's Query API directly. */
  readonly endpoint: string;
  /** The stable version's image. @default DEFAULT_STABLE_IMAGE */
  readonly stableImage?: string;
  /** Desired tasks of each ECS service. @default 2 */
  readonly desiredCount?: number;
}

/** What was created in moto for one service. */
export interface ServiceResources {
  readonly service: string;
  readonly clusterName: string;
  readonly clusterArn: string;
  readonly serviceArn: string;
  readonly taskDefinitionArn: string;
  /** The stable task set, in the blue slot, primary. */
  readonly stableTaskSetArn: string;
  readonly loadBalancerArn: string;
  readonly listenerArn: string;
  readonly ruleArn?: string;
  readonly testListenerArn?: string;
  readonly targetGroups: { readonly blue: string; readonly green: string };
  readonly image: string;
}

export interface ApplicationResources {
  /** The config with this environment's ARNs replaced by moto's; other environments as they were. */
  readonly config: ProjectConfig;
  readonly environment: EnvironmentConfig;
  readonly network: Network;
  readonly services: Readonly<Record<string, ServiceResources>>;
}

/** `…:listener/app/<name>/<id>/<listener>` → `<name>`; the load balancer a listener of the config belongs to. */
function loadBalancerName(listenerArn: string): string {
  const m = /:listener(?:-rule)?\/app\/([^/]+)\//.exec(listenerArn);
  if (!m) throw new Error(`not an ALB listener ARN: ${listenerArn}`);
  return m[1]!;
}

/** `…:targetgroup/<name>/<id>` → `<name>`. */
function targetGroupName(arn: string): string {
  return arn.split(':').at(-1)!.split('/')[1]!;
}

const forward = (blue: string, green: string): Action[] => [
  {
    Type: 'forward',
    ForwardConfig: {
      TargetGroups: [
        { TargetGroupArn: blue, Weight: 100 },
        { TargetGroupArn: green, Weight: 0 },
      ],
    },
  },
];

export async function provisionApplication(
  config: ProjectConfig,
  environmentName: string,
  options: ApplicationOptions,
): Promise<ApplicationResources> {
  const found = config.environments.find((e) => e.name === environmentName);
  if (!found) throw new Error(`no environment "${environmentName}" in the config`);
  const env: EnvironmentConfig = found;
  const { ecs, elb } = options;
  const image = options.stableImage ?? DEFAULT_STABLE_IMAGE;
  const envIndex = config.environments.indexOf(env);
  const network = await createNetwork(
    { endpoint: options.endpoint, region: env.region },
    `${env.name}-tasks`,
    envIndex + 1,
  );

  const clusters = new Map<string, string>();
  const loadBalancers = new Map<string, { arn: string; nextPort: number }>();
  const clusterArn = async (name: string) => {
    if (!clusters.has(name)) {
      const out = await ecs.send(new CreateClusterCommand({ clusterName: name }));
      clusters.set(name, out.cluster!.clusterArn!);
    }
    return clusters.get(name)!;
  };
  const loadBalancer = async (name: string) => {
    if (!loadBalancers.has(name)) {
      const out = await elb.send(
        new CreateLoadBalancerCommand({
          Name: name,
          Type: 'application',
          Scheme: 'internet-facing',
          Subnets: [...network.subnetIds],
          SecurityGroups: [network.securityGroupId],
        }),
      );
      loadBalancers.set(name, { arn: out.LoadBalancers![0]!.LoadBalancerArn!, nextPort: 80 });
    }
    return loadBalancers.get(name)!;
  };

  const services: Record<string, ServiceResources> = {};
  const rewritten: ServiceConfig[] = [];
  // Sequential on purpose: shared clusters and load balancers are created on first use.
  for (const svc of env.services) {
    const resources = await provisionService(svc);
    services[svc.name] = resources;
    rewritten.push({
      ...svc,
      listener: { arn: resources.listenerArn, ...(resources.ruleArn ? { ruleArn: resources.ruleArn } : {}) },
      ...(resources.testListenerArn ? { testListener: { arn: resources.testListenerArn } } : {}),
      targetGroups: resources.targetGroups,
    });
  }

  const raw = {
    ...config,
    environments: config.environments.map((e) => (e === env ? { ...env, services: rewritten } : e)),
  };
  const validated = parseProjectConfig(raw, `the ${env.name} environment as provisioned in moto`);
  return {
    config: validated,
    environment: validated.environments.find((e) => e.name === env.name)!,
    network,
    services,
  };

  async function provisionService(svc: ServiceConfig): Promise<ServiceResources> {
    const cluster = await clusterArn(svc.cluster);
    const lb = await loadBalancer(loadBalancerName(svc.listener.arn));
    const targetGroup = async (arn: string) => {
      const out = await elb.send(
        new CreateTargetGroupCommand({
          Name: targetGroupName(arn),
          Protocol: 'HTTP',
          Port: svc.containerPort,
          VpcId: network.vpcId,
          TargetType: 'ip',
          HealthCheckPath: '/',
        }),
      );
      return out.TargetGroups![0]!.TargetGroupArn!;
    };
    const blue = await targetGroup(svc.targetGroups.blue);
    const green = await targetGroup(svc.targetGroups.green);

    const listen = async (actions: Action[]) => {
      const out = await elb.send(
        new CreateListenerCommand({
          LoadBalancerArn: lb.arn,
          Protocol: 'HTTP',
          Port: lb.nextPort++,
          DefaultActions: actions,
        }),
      );
      return out.Listeners![0]!.ListenerArn!;
    };
    let listenerArn: string;
    let ruleArn: string | undefined;
    if (svc.listener.ruleArn) {
      listenerArn = await listen([
        {
          Type: 'fixed-response',
          FixedResponseConfig: { StatusCode: '404', ContentType: 'text/plain', MessageBody: 'no route' },
        },
      ]);
      const out = await elb.send(
        new CreateRuleCommand({
          ListenerArn: listenerArn,
          Priority: 10,
          Conditions: [{ Field: 'path-pattern', PathPatternConfig: { Values: ['/*'] } }],
          Actions: forward(blue, green),
        }),
      );
      ruleArn = out.Rules![0]!.RuleArn!;
    } else {
      listenerArn = await listen(forward(blue, green));
    }
    const testListenerArn = svc.testListener ? await listen(forward(blue, green)) : undefined;

    const taskDefinition = await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: `${env.name}-${svc.name}`,
        networkMode: 'awsvpc',
        requiresCompatibilities: ['FARGATE'],
        cpu: '256',
        memory: '512',
        containerDefinitions: [
          {
            name: svc.containerName,
            image,
            essential: true,
            // moto answers CreateTaskSet with 500 unless the container itself sets memory.
            memory: 512,
            portMappings: [{ containerPort: svc.containerPort, protocol: 'tcp' }],
          },
        ],
      }),
    );
    const taskDefinitionArn = taskDefinition.taskDefinition!.taskDefinitionArn!;
    const service = await ecs.send(
      new CreateServiceCommand({
        cluster,
        serviceName: svc.ecsService,
        desiredCount: options.desiredCount ?? 2,
        deploymentController: { type: 'EXTERNAL' },
      }),
    );
    const taskSet = await ecs.send(
      new CreateTaskSetCommand({
        cluster,
        service: svc.ecsService,
        taskDefinition: taskDefinitionArn,
        launchType: 'FARGATE',
        // moto needs securityGroups here, or it answers 500.
        networkConfiguration: {
          awsvpcConfiguration: { subnets: [...network.subnetIds], securityGroups: [network.securityGroupId] },
        },
        loadBalancers: [
          { targetGroupArn: blue, containerName: svc.containerName, containerPort: svc.containerPort },
        ],
        scale: { unit: 'PERCENT', value: 100 },
      }),
    );
    const stableTaskSetArn = taskSet.taskSet!.taskSetArn!;
    // moto needs the full task-set ARN here.
    await ecs.send(
      new UpdateServicePrimaryTaskSetCommand({
        cluster,
        service: svc.ecsService,
        primaryTaskSet: stableTaskSetArn,
      }),
    );
    return {
      service: svc.name,
      clusterName: svc.cluster,
      clusterArn: cluster,
      serviceArn: service.service!.serviceArn!,
      taskDefinitionArn,
      stableTaskSetArn,
      loadBalancerArn: lb.arn,
      listenerArn,
      ...(ruleArn ? { ruleArn } : {}),
      ...(testListenerArn ? { testListenerArn } : {}),
      targetGroups: { blue, green },
      image,
    };
  }
}
