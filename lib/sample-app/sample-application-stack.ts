import { CfnOutput, Duration, RemovalPolicy, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import type { EnvironmentConfig, ServiceConfig } from '../../lambdas/domain/config';

/** The image the sample service runs until the first release. */
export const SAMPLE_IMAGE = 'public.ecr.aws/nginx/nginx:1.27';

export interface SampleApplicationStackProps extends StackProps {
  /** The environment of the config the sample serves. */
  readonly environment: EnvironmentConfig;
  /** The service of that environment the sample stands for: its cluster, ECS service, container and port. */
  readonly service: ServiceConfig;
  /** The image of the first (stable) version. @default SAMPLE_IMAGE */
  readonly image?: string;
  /** Tasks of the service. @default 2 */
  readonly desiredCount?: number;
  /** Who may reach the test listener. @default the VPC only */
  readonly testListenerPeer?: ec2.IPeer;
}

/**
 * An application for the controller to release, deployable in a few minutes: a VPC (two public subnets, no NAT),
 * an internet-facing ALB with a production listener (port 80) and a test listener (port 8080) that both forward
 * to two target groups (blue 100 %, green 0 %), an ECS Fargate cluster and an ECS service with the EXTERNAL
 * deployment controller whose first task set runs a small public image in the blue slot at full scale. Names
 * and ports follow the service in the config; the outputs are the ARNs to put into the config.
 */
export class SampleApplicationStack extends Stack {
  readonly listener: elbv2.ApplicationListener;
  readonly testListener: elbv2.ApplicationListener;
  readonly targetGroups: {
    readonly blue: elbv2.ApplicationTargetGroup;
    readonly green: elbv2.ApplicationTargetGroup;
  };

  constructor(scope: Construct, id: string, props: SampleApplicationStackProps) {
    super(scope, id, props);
    const svc = props.service;
    const port = svc.containerPort;

    const vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: 2,
      natGateways: 0,
      subnetConfiguration: [{ name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 }],
      flowLogs: {
        rejected: {
          destination: ec2.FlowLogDestination.toCloudWatchLogs(
            new logs.LogGroup(this, 'FlowLogs', {
              retention: logs.RetentionDays.ONE_MONTH,
              removalPolicy: RemovalPolicy.DESTROY,
            }),
          ),
          trafficType: ec2.FlowLogTrafficType.REJECT,
        },
      },
    });

    const accessLogs = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      serverAccessLogsPrefix: 'bucket-access/',
      lifecycleRules: [{ expiration: Duration.days(30) }],
      removalPolicy: RemovalPolicy.DESTROY,
      autoDeleteObjects: false,
    });

    const albSecurityGroup = new ec2.SecurityGroup(this, 'LoadBalancerSecurityGroup', {
      vpc,
      description: `${svc.name}: HTTP from the internet; the test listener from its peer only`,
      allowAllOutbound: false,
    });
    albSecurityGroup.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(80), 'production listener');
    albSecurityGroup.addIngressRule(
      props.testListenerPeer ?? ec2.Peer.ipv4(vpc.vpcCidrBlock),
      ec2.Port.tcp(8080),
      'test listener',
    );
    Validations.of(albSecurityGroup).acknowledge({
      id: 'AwsSolutions-EC23',
      reason: 'The sample is a public web application: its production listener takes HTTP from anywhere.',
    });

    const alb = new elbv2.ApplicationLoadBalancer(this, 'LoadBalancer', {
      vpc,
      internetFacing: true,
      securityGroup: albSecurityGroup,
      dropInvalidHeaderFields: true,
    });
    alb.logAccessLogs(accessLogs, 'alb');

    const targetGroup = (slot: 'blue' | 'green') =>
      new elbv2.ApplicationTargetGroup(this, `${slot === 'blue' ? 'Blue' : 'Green'}TargetGroup`, {
        vpc,
        port,
        protocol: elbv2.ApplicationProtocol.HTTP,
        targetType: elbv2.TargetType.IP,
        healthCheck: {
          path: '/',
          healthyThresholdCount: 2,
          interval: Duration.seconds(10),
          timeout: Duration.seconds(5),
        },
        deregistrationDelay: Duration.seconds(10),
      });
    this.targetGroups = { blue: targetGroup('blue'), green: targetGroup('green') };
    const forward = () =>
      elbv2.ListenerAction.weightedForward([
        { targetGroup: this.targetGroups.blue, weight: 100 },
        { targetGroup: this.targetGroups.green, weight: 0 },
      ]);
    this.listener = alb.addListener('Production', {
      port: 80,
      protocol: elbv2.ApplicationProtocol.HTTP,
      defaultAction: forward(),
      open: false,
    });
    this.testListener = alb.addListener('Test', {
      port: 8080,
      protocol: elbv2.ApplicationProtocol.HTTP,
      defaultAction: forward(),
      open: false,
    });

    const cluster = new ecs.Cluster(this, 'Cluster', {
      vpc,
      clusterName: svc.cluster,
      containerInsightsV2: ecs.ContainerInsights.ENABLED,
    });
    const taskDefinition = new ecs.FargateTaskDefinition(this, 'TaskDefinition', {
      family: `${props.environment.name}-${svc.name}`,
      cpu: 256,
      memoryLimitMiB: 512,
      runtimePlatform: {
        cpuArchitecture: ecs.CpuArchitecture.ARM64,
        operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
      },
    });
    const logGroup = new logs.LogGroup(this, 'ServiceLogs', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    taskDefinition.addContainer(svc.containerName, {
      containerName: svc.containerName,
      image: ecs.ContainerImage.fromRegistry(props.image ?? SAMPLE_IMAGE),
      essential: true,
      // nginx listens on 80; the service's port comes from the config. A release keeps this command.
      entryPoint: ['/bin/sh', '-c'],
      command: [
        `sed -i 's/listen\\(.*\\)\\b80;/listen\\1${port};/' /etc/nginx/conf.d/default.conf && exec nginx -g 'daemon off;'`,
      ],
      portMappings: [{ containerPort: port, protocol: ecs.Protocol.TCP }],
      logging: ecs.LogDrivers.awsLogs({ logGroup, streamPrefix: svc.name }),
    });

    const taskSecurityGroup = new ec2.SecurityGroup(this, 'TaskSecurityGroup', {
      vpc,
      description: `${svc.name}: the container port from the load balancer only`,
    });
    taskSecurityGroup.addIngressRule(albSecurityGroup, ec2.Port.tcp(port), 'from the load balancer');
    albSecurityGroup.addEgressRule(taskSecurityGroup, ec2.Port.tcp(port), 'to the tasks');

    // The EXTERNAL controller: the service holds no task definition, load balancer or network; its task sets do.
    const service = new ecs.CfnService(this, 'Service', {
      cluster: cluster.clusterName,
      serviceName: svc.ecsService,
      desiredCount: props.desiredCount ?? 2,
      deploymentController: { type: 'EXTERNAL' },
      schedulingStrategy: 'REPLICA',
    });
    const stable = new ecs.CfnTaskSet(this, 'StableTaskSet', {
      cluster: cluster.clusterName,
      service: service.attrName,
      taskDefinition: taskDefinition.taskDefinitionArn,
      launchType: 'FARGATE',
      externalId: 'initial',
      scale: { unit: 'PERCENT', value: 100 },
      networkConfiguration: {
        awsVpcConfiguration: {
          assignPublicIp: 'ENABLED',
          subnets: vpc.publicSubnets.map((s) => s.subnetId),
          securityGroups: [taskSecurityGroup.securityGroupId],
        },
      },
      loadBalancers: [
        {
          targetGroupArn: this.targetGroups.blue.targetGroupArn,
          containerName: svc.containerName,
          containerPort: port,
        },
      ],
    });
    stable.node.addDependency(this.listener, this.testListener);
    new ecs.CfnPrimaryTaskSet(this, 'PrimaryTaskSet', {
      cluster: cluster.clusterName,
      service: service.attrName,
      taskSetId: stable.attrId,
    });

    const outputs: Record<string, string> = {
      ListenerArn: this.listener.listenerArn,
      TestListenerArn: this.testListener.listenerArn,
      BlueTargetGroupArn: this.targetGroups.blue.targetGroupArn,
      GreenTargetGroupArn: this.targetGroups.green.targetGroupArn,
    };
    for (const [name, value] of Object.entries(outputs)) {
      new CfnOutput(this, name, {
        value,
        description: `${svc.name} in ${props.environment.name}: put into the config`,
      });
    }
    new CfnOutput(this, 'Url', {
      value: `http://${alb.loadBalancerDnsName}/`,
      description: 'the production listener',
    });
  }
}
