/**
 * The promotion state machine's steps, one function for all of them: `action` names the step. Thin: each action
 * is one call of the promotion engine.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import {
  beginPromotion,
  checkStage,
  promotionPortsFrom,
  requestPromotionApproval,
  startStage,
  stopPromotion,
  type BeginRequest,
  type PromotionContext,
  type StopRequest,
} from '../engine/promotion';
import type { Deps } from '../runtime/deps';
import { lambdaHandler } from '../runtime/handler';

export type Event =
  | ({ action: 'begin' } & BeginRequest)
  | { action: 'request-approval'; promotion: PromotionContext; taskToken: string }
  | { action: 'start'; promotion: PromotionContext }
  | { action: 'check'; promotion: PromotionContext }
  | { action: 'stop'; promotion: PromotionContext; stop: StopRequest };

export function make(deps: Deps) {
  const ports = promotionPortsFrom(deps);
  return async (event: Event): Promise<unknown> => {
    switch (event.action) {
      case 'begin':
        return beginPromotion(ports, event);
      case 'request-approval':
        await requestPromotionApproval(ports, event.promotion, event.taskToken);
        return { requested: true };
      case 'start':
        return startStage(ports, event.promotion);
      case 'check':
        return checkStage(ports, event.promotion);
      case 'stop':
        return stopPromotion(ports, event.promotion, event.stop);
      default:
        throw new Error(`unknown promotion step ${String((event as { action?: unknown }).action)}`);
    }
  };
}

export const handler = lambdaHandler(
  { dynamodb: () => new DynamoDBClient({}), sfn: () => new SFNClient({}), sns: () => new SNSClient({}) },
  make,
);
