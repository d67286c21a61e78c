import fc from 'fast-check';
import { DeploymentConfig } from '../../lambdas/domain/config';
import {
  buildPlan,
  rollbackActions,
  rollingWeights,
  shiftActions,
  type PlanStep,
} from '../../lambdas/domain/plan';

const deployment = DeploymentConfig.parse({});

describe('strategy plans', () => {
  it.each([
    ['blue-green', {}, [100]],
    ['canary', {}, [10, 50, 100]],
    ['canary', { steps: [5, 25, 100] }, [5, 25, 100]],
    ['rolling', {}, [25, 50, 75, 100]],
    ['rolling', { stepPercent: 30 }, [30, 60, 90, 100]],
  ] as const)('%s with %j moves traffic through %j', (strategy, overrides, weights) => {
    // Act
    const plan = buildPlan({ strategy, deployment, overrides, approvalRequired: false });
    // Assess
    expect(plan.map((s) => s.weight)).toEqual(weights);
  });

  it('blue-green starts the candidate at full scale and keeps stable at full scale', () => {
    expect(buildPlan({ strategy: 'blue-green', deployment, approvalRequired: false })).toEqual([
      { weight: 100, candidateScale: 100, stableScale: 100, bakeSeconds: 300, approvalBefore: false },
    ]);
  });

  it('rolling scales stable down as traffic leaves it', () => {
    const plan = buildPlan({
      strategy: 'rolling',
      deployment,
      overrides: { stepPercent: 50 },
      approvalRequired: false,
    });
    expect(plan.map((s) => [s.candidateScale, s.stableScale])).toEqual([
      [50, 50],
      [100, 0],
    ]);
  });

  it.each([
    ['blue-green', [true]],
    ['canary', [false, true, false]],
    ['rolling', [true, false, false, false]],
  ] as const)('%s asks for approval where required at %j', (strategy, approvals) => {
    const plan = buildPlan({ strategy, deployment, approvalRequired: true });
    expect(plan.map((s) => s.approvalBefore)).toEqual(approvals);
  });

  it('orders a shift up: capacity before traffic', () => {
    const step: PlanStep = {
      weight: 50,
      candidateScale: 50,
      stableScale: 50,
      bakeSeconds: 0,
      approvalBefore: false,
    };
    expect(shiftActions({ candidateScale: 25, stableScale: 75, candidateWeight: 25 }, step)).toEqual([
      { kind: 'scale-candidate', scale: 50 },
      { kind: 'set-weights', candidate: 50 },
      { kind: 'scale-stable', scale: 50 },
    ]);
  });

  it('rolls back an already stable service with no action', () => {
    expect(
      rollbackActions({
        candidateWeight: 0,
        stableScale: 100,
        stableIsPrimary: true,
        candidateExists: false,
      }),
    ).toEqual([]);
  });
});

describe('plan properties', () => {
  const steps = fc
    .uniqueArray(fc.integer({ min: 1, max: 99 }), { maxLength: 6 })
    .map((xs) => [...xs.sort((a, b) => a - b), 100]);
  const strategyOptions = fc.oneof(
    fc.record({ strategy: fc.constant('canary' as const), overrides: fc.record({ steps }) }),
    fc.record({
      strategy: fc.constant('rolling' as const),
      overrides: fc.record({ stepPercent: fc.integer({ min: 1, max: 100 }) }),
    }),
    fc.record({ strategy: fc.constant('blue-green' as const), overrides: fc.constant({}) }),
  );

  it('weights rise strictly to 100 and capacity never trails traffic', () => {
    fc.assert(
      fc.property(strategyOptions, fc.boolean(), ({ strategy, overrides }, approvalRequired) => {
        const plan = buildPlan({ strategy, deployment, overrides, approvalRequired });
        plan.forEach((s, i) => {
          if (i > 0) expect(s.weight).toBeGreaterThan(plan[i - 1]!.weight);
          expect(s.candidateScale).toBeGreaterThanOrEqual(s.weight);
          expect(s.stableScale).toBeGreaterThanOrEqual(100 - s.weight);
        });
        expect(plan.at(-1)!.weight).toBe(100);
      }),
    );
  });

  it('every shift raises capacity before it moves traffic onto it, and moves traffic off before lowering it', () => {
    fc.assert(
      fc.property(strategyOptions, ({ strategy, overrides }) => {
        const plan = buildPlan({ strategy, deployment, overrides, approvalRequired: false });
        let state = { candidateScale: plan[0]!.candidateScale, stableScale: 100, candidateWeight: 0 };
        for (const step of plan) {
          for (const action of shiftActions(state, step)) {
            if (action.kind === 'scale-candidate') state = { ...state, candidateScale: action.scale };
            if (action.kind === 'scale-stable') state = { ...state, stableScale: action.scale };
            if (action.kind === 'set-weights') state = { ...state, candidateWeight: action.candidate };
            expect(state.candidateScale).toBeGreaterThanOrEqual(state.candidateWeight);
            expect(state.stableScale).toBeGreaterThanOrEqual(100 - state.candidateWeight);
          }
        }
      }),
    );
  });

  it('a rollback from any point of any plan restores 100 % stable, traffic first', () => {
    fc.assert(
      fc.property(strategyOptions, fc.nat(), ({ strategy, overrides }, at) => {
        const plan = buildPlan({ strategy, deployment, overrides, approvalRequired: false });
        const step = plan[at % plan.length]!;
        const actions = rollbackActions({
          candidateWeight: step.weight,
          stableScale: step.stableScale,
          stableIsPrimary: true,
          candidateExists: true,
        });
        expect(actions[0]).toEqual({ kind: 'set-weights', candidate: 0 });
        expect(actions.some((a) => a.kind === 'delete-candidate')).toBe(true);
        if (step.stableScale < 100) expect(actions).toContainEqual({ kind: 'scale-stable', scale: 100 });
      }),
    );
  });

  it('rolling weights end at 100 in equal steps', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 100 }), (p) => {
        const w = rollingWeights(p);
        expect(w.at(-1)).toBe(100);
        w.slice(0, -1).forEach((x, i) => expect(x).toBe(p * (i + 1)));
      }),
    );
  });
});
