/**
 * Traffic router: the weights of an ALB listener's (or listener rule's) forward action across the two slots.
 */
import {
  DescribeListenersCommand,
  DescribeRulesCommand,
  ModifyListenerCommand,
  ModifyRuleCommand,
  type Action,
  type ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { DeploymentStepError } from '../domain/errors';
import { awsCall } from './aws-call';

/** Where a service's production traffic is split: the listener or rule, and the two target groups. */
export interface Route {
  readonly listenerArn: string;
  readonly ruleArn?: string;
  readonly targetGroups: { readonly blue: string; readonly green: string };
}

export interface SlotWeights {
  readonly blue: number;
  readonly green: number;
}

export interface TrafficRouter {
  getWeights(route: Route): Promise<SlotWeights>;
  setWeights(route: Route, weights: SlotWeights): Promise<void>;
}

export class ElbTrafficRouter implements TrafficRouter {
  constructor(private readonly elb: ElasticLoadBalancingV2Client) {}

  async getWeights(route: Route): Promise<SlotWeights> {
    const actions = route.ruleArn
      ? (await awsCall(() => this.elb.send(new DescribeRulesCommand({ RuleArns: [route.ruleArn!] }))))
          .Rules?.[0]?.Actions
      : (
          await awsCall(() =>
            this.elb.send(new DescribeListenersCommand({ ListenerArns: [route.listenerArn] })),
          )
        ).Listeners?.[0]?.DefaultActions;
    const forward = actions?.find((a) => a.Type === 'forward');
    const groups =
      forward?.ForwardConfig?.TargetGroups ??
      (forward?.TargetGroupArn ? [{ TargetGroupArn: forward.TargetGroupArn, Weight: 1 }] : []);
    const weightOf = (arn: string) => groups.find((g) => g.TargetGroupArn === arn)?.Weight ?? 0;
    const blue = weightOf(route.targetGroups.blue);
    const green = weightOf(route.targetGroups.green);
    const total = blue + green;
    if (total === 0) {
      throw new DeploymentStepError(
        `${route.ruleArn ?? route.listenerArn} does not forward to either target group of the service`,
      );
    }
    // Weights are relative in ALB; report them as percents.
    return { blue: Math.round((blue / total) * 100), green: 100 - Math.round((blue / total) * 100) };
  }

  async setWeights(route: Route, weights: SlotWeights): Promise<void> {
    const action: Action = {
      Type: 'forward',
      ForwardConfig: {
        TargetGroups: [
          { TargetGroupArn: route.targetGroups.blue, Weight: weights.blue },
          { TargetGroupArn: route.targetGroups.green, Weight: weights.green },
        ],
        TargetGroupStickinessConfig: { Enabled: false },
      },
    };
    if (route.ruleArn) {
      await awsCall(() =>
        this.elb.send(new ModifyRuleCommand({ RuleArn: route.ruleArn, Actions: [action] })),
      );
    } else {
      await awsCall(() =>
        this.elb.send(
          new ModifyListenerCommand({ ListenerArn: route.listenerArn, DefaultActions: [action] }),
        ),
      );
    }
  }
}
