/**
 * Every built-in scenario against every strategy, end to end in the local cloud: the real state machines and
 * handlers against moto, with the workload model's traffic and the alarm evaluator. Outcomes and the final state
 * are read back from moto. Scenarios with the same service settings share one cloud (each run first lets the
 * alarms of the previous one settle); late-failure, which changes the health gate's interval, has its own.
 */
import { DeploymentStore } from '../../lambdas/adapters/deployment-store';
import type { Strategy } from '../../lambdas/domain/config';
import { LocalCloud } from '../../localcloud';
import { builtInScenario } from '../../localcloud/scenarios';
import {
  runSimulation,
  simulate,
  simulationCloudOptions,
  type SimulationResult,
} from '../../localcloud/simulation';
import { listenerWeights, taskSets } from '../../localcloud/testing';

jest.setTimeout(60_000);

const STRATEGIES: readonly Strategy[] = ['canary', 'blue-green', 'rolling'];
const SERVICE = 'checkout';

type Expectation =
  { readonly outcome: 'SUCCEEDED' } | { readonly outcome: 'ROLLED_BACK'; readonly trigger: string };

const EXPECTED: Record<string, Expectation> = {
  healthy: { outcome: 'SUCCEEDED' },
  'flaky-start': { outcome: 'SUCCEEDED' },
  'bad-release': { outcome: 'ROLLED_BACK', trigger: 'health-check-failure' },
  'latency-regression': { outcome: 'ROLLED_BACK', trigger: 'performance-degradation' },
  'late-failure': { outcome: 'ROLLED_BACK', trigger: 'alarm' },
};

const otherSlot = (slot: 'blue' | 'green') => (slot === 'blue' ? 'green' : 'blue');

/** Runs one scenario and checks the outcome against moto's listener, task sets and table. */
async function rehearse(
  cloud: LocalCloud,
  scenarioName: string,
  strategy: Strategy,
): Promise<SimulationResult> {
  // Given the slot serving now, and its task set
  const before = await taskSets(cloud, SERVICE);
  const weightsBefore = await listenerWeights(cloud, SERVICE);
  const stableSlot = weightsBefore.blue === 100 ? 'blue' : 'green';
  // When
  const started = performance.now();
  const result = await runSimulation(cloud, {
    service: SERVICE,
    strategy,
    scenario: builtInScenario(scenarioName),
    seed: 1,
  });
  const wallMs = performance.now() - started;
  // Then
  const expected = EXPECTED[scenarioName]!;
  const diagnosis = JSON.stringify({
    outcome: result.outcome,
    trigger: result.trigger,
    error: result.error,
    execution: result.execution,
  });
  expect({ scenario: scenarioName, strategy, outcome: result.outcome, diagnosis }).toMatchObject({
    outcome: expected.outcome,
  });
  expect(wallMs).toBeLessThan(30_000);
  const weights = await listenerWeights(cloud, SERVICE);
  const after = await taskSets(cloud, SERVICE);
  const record = await new DeploymentStore(cloud.clients.dynamodb, cloud.deps.tableName).getDeployment(
    result.deploymentId,
  );
  if (expected.outcome === 'SUCCEEDED') {
    expect(weights).toEqual({ [stableSlot]: 0, [otherSlot(stableSlot)]: 100 });
    expect(result.finalWeights).toEqual({ stable: 0, candidate: 100 });
    expect(after).toHaveLength(1);
    expect(after[0]).toMatchObject({ status: 'PRIMARY', externalId: result.deploymentId });
    expect(after[0]!.loadBalancers?.[0]?.targetGroupArn).not.toBe(
      before[0]!.loadBalancers?.[0]?.targetGroupArn,
    );
  } else {
    expect(result.trigger).toBe(expected.trigger);
    expect(weights).toEqual({ [stableSlot]: 100, [otherSlot(stableSlot)]: 0 });
    expect(result.finalWeights).toEqual({ stable: 100, candidate: 0 });
    expect(after.map((t) => [t.taskSetArn, t.status])).toEqual([[before[0]!.taskSetArn, 'PRIMARY']]);
    expect(result.timeToRestoreTrafficMs).not.toBeNull();
  }
  expect(record).toMatchObject({ status: expected.outcome, strategy });
  return result;
}

describe('rehearsals with the service as configured', () => {
  let cloud: LocalCloud;
  beforeAll(async () => {
    cloud = await LocalCloud.start(
      simulationCloudOptions({ scenario: builtInScenario('healthy'), service: SERVICE }),
    );
  }, 120_000);
  afterAll(async () => {
    const pid = cloud?.moto.pid;
    await cloud?.stop();
    if (pid) expect(() => process.kill(pid, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
  });

  describe.each(['healthy', 'bad-release', 'latency-regression', 'flaky-start'])(
    'scenario %s',
    (scenario) => {
      it.each(STRATEGIES)(`ends ${EXPECTED[scenario]!.outcome} with %s`, async (strategy) => {
        const result = await rehearse(cloud, scenario, strategy);

        if (scenario === 'flaky-start') {
          // The readiness check waited for a whole minute without unhealthy hosts before any traffic moved.
          const at = (event: string) => Date.parse(result.timeline.find((e) => e.event === event)!.at);
          expect(at('candidate-ready') - at('candidate-started')).toBeGreaterThanOrEqual(90_000);
          expect(result.alarmTransitions.filter((t) => t.to === 'ALARM')).toEqual([]);
        }
        if (scenario === 'healthy') expect(result.steps.at(-1)).toBe(100);
      });
    },
  );
});

describe('rehearsals of a late failure, with the health gate checking once per bake', () => {
  let cloud: LocalCloud;
  beforeAll(async () => {
    cloud = await LocalCloud.start(
      simulationCloudOptions({ scenario: builtInScenario('late-failure'), service: SERVICE }),
    );
  }, 120_000);
  afterAll(async () => {
    await cloud?.stop();
  });

  it.each(STRATEGIES)('is rolled back by the alarm before the next health gate with %s', async (strategy) => {
    const result = await rehearse(cloud, 'late-failure', strategy);

    const alarm = result.alarmTransitions.find((t) => t.to === 'ALARM')!;
    expect(alarm.alarmName).toMatch(/^checkout-staging-error-rate-(blue|green)$/);
    expect(alarm.deliveries).toEqual([expect.objectContaining({ handler: 'rollback' })]);
    expect(result.execution.status).toBe('ABORTED');
    // No health verdict came between the failure and the rollback: the bake's only check was still to come.
    expect(result.timeline.filter((e) => e.event === 'health-verdict')).toEqual([]);
    const rolledBack = result.records.rollbacks[0]!;
    expect(rolledBack).toMatchObject({ trigger: 'alarm', alarmName: alarm.alarmName, outcome: 'RESTORED' });
  });
});

describe('the same seed', () => {
  it('gives the same rehearsal', async () => {
    const run = () =>
      simulate({
        scenario: builtInScenario('bad-release'),
        strategy: 'blue-green',
        seed: 7,
        warmupSeconds: 120,
        cooldownSeconds: 60,
      });

    const [first, second] = [await run(), await run()];

    expect(second.outcome).toBe('ROLLED_BACK');
    expect(second.timeline).toEqual(first.timeline);
    expect(second.series).toEqual(first.series);
    expect(second.records.deployment?.timeline).toEqual(first.records.deployment?.timeline);
  });
});
