/**
 * Strategy plans: the sequence of traffic steps a deployment goes through. Pure, and the heart of what the
 * state machines do: each step is {capacity up, traffic, capacity down, bake under the health gate}.
 */
import type { DeploymentConfig, Strategy } from './config';

export interface PlanStep {
  /** Percent of production traffic on the candidate after this step. */
  readonly weight: number;
  /** Candidate task set scale (percent of the service's desired count) set before traffic moves. */
  readonly candidateScale: number;
  /** Stable task set scale set after traffic has moved off it. */
  readonly stableScale: number;
  /** Bake time under the health gate after the shift. */
  readonly bakeSeconds: number;
  /** A person must approve before this step's traffic moves. */
  readonly approvalBefore: boolean;
}

/** Options an execution may override for one deployment (`strategyOptions` in the execution input). */
export interface StrategyOverrides {
  readonly steps?: readonly number[];
  readonly stepPercent?: number;
  readonly bakeSeconds?: number;
}

export interface PlanOptions {
  readonly strategy: Strategy;
  readonly deployment: DeploymentConfig;
  readonly overrides?: StrategyOverrides;
  readonly approvalRequired: boolean;
}

/** The weights a rolling deployment goes through: equal steps of `stepPercent`, the last one 100. */
export function rollingWeights(stepPercent: number): number[] {
  const weights: number[] = [];
  for (let w = stepPercent; w < 100; w += stepPercent) weights.push(w);
  weights.push(100);
  return weights;
}

export function buildPlan(options: PlanOptions): PlanStep[] {
  const { strategy, deployment, overrides = {}, approvalRequired } = options;
  const bakeSeconds = overrides.bakeSeconds ?? deployment.bakeSeconds;
  switch (strategy) {
    case 'blue-green':
      // Candidate at full scale before anything moves; stable stays at full scale until it is retired.
      return [
        { weight: 100, candidateScale: 100, stableScale: 100, bakeSeconds, approvalBefore: approvalRequired },
      ];
    case 'canary': {
      const steps = overrides.steps ?? deployment.canarySteps;
      // Capacity follows traffic on the candidate; stable keeps full capacity so a rollback is instant.
      // Approval comes after the first canary bake, before traffic goes further.
      return steps.map((weight, i) => ({
        weight,
        candidateScale: weight,
        stableScale: 100,
        bakeSeconds,
        approvalBefore: approvalRequired && i === Math.min(1, steps.length - 1),
      }));
    }
    case 'rolling': {
      const weights = rollingWeights(overrides.stepPercent ?? deployment.rollingStepPercent);
      return weights.map((weight, i) => ({
        weight,
        candidateScale: weight,
        stableScale: 100 - weight,
        bakeSeconds,
        approvalBefore: approvalRequired && i === 0,
      }));
    }
  }
}

/** The candidate's scale when its task set is created: enough for the first step's traffic. */
export function initialCandidateScale(plan: readonly PlanStep[]): number {
  return plan[0]?.candidateScale ?? 100;
}

/**
 * The order of mutations for moving from the current state to a step: capacity up before traffic moves onto it,
 * traffic off before capacity goes down. Pure so that the order itself is tested.
 */
export type ShiftAction =
  | { readonly kind: 'scale-candidate'; readonly scale: number }
  | { readonly kind: 'set-weights'; readonly candidate: number }
  | { readonly kind: 'scale-stable'; readonly scale: number };

export function shiftActions(
  current: { candidateScale: number; stableScale: number; candidateWeight: number },
  step: PlanStep,
): ShiftAction[] {
  const actions: ShiftAction[] = [];
  if (step.candidateScale > current.candidateScale)
    actions.push({ kind: 'scale-candidate', scale: step.candidateScale });
  if (step.stableScale > current.stableScale) actions.push({ kind: 'scale-stable', scale: step.stableScale });
  if (step.weight !== current.candidateWeight) actions.push({ kind: 'set-weights', candidate: step.weight });
  if (step.stableScale < current.stableScale) actions.push({ kind: 'scale-stable', scale: step.stableScale });
  if (step.candidateScale < current.candidateScale)
    actions.push({ kind: 'scale-candidate', scale: step.candidateScale });
  return actions;
}

/**
 * A rollback, from any point: traffic first (100 % stable), then stable capacity back to full, then the candidate
 * removed. Returns the actions that change something; an already-stable service yields none.
 */
export type RollbackAction =
  | { readonly kind: 'set-weights'; readonly candidate: 0 }
  | { readonly kind: 'scale-stable'; readonly scale: 100 }
  | { readonly kind: 'make-stable-primary' }
  | { readonly kind: 'delete-candidate' };

export function rollbackActions(current: {
  candidateWeight: number;
  stableScale: number;
  stableIsPrimary: boolean;
  candidateExists: boolean;
}): RollbackAction[] {
  const actions: RollbackAction[] = [];
  if (current.candidateWeight !== 0) actions.push({ kind: 'set-weights', candidate: 0 });
  if (current.stableScale < 100) actions.push({ kind: 'scale-stable', scale: 100 });
  if (!current.stableIsPrimary) actions.push({ kind: 'make-stable-primary' });
  if (current.candidateExists) actions.push({ kind: 'delete-candidate' });
  return actions;
}
