import { HealthThresholds } from '../../lambdas/domain/config';
import { candidateReadiness, decide, judge, type GateProgress } from '../../lambdas/domain/health';

const t = HealthThresholds.parse({
  maxErrorRatePercent: 5,
  maxLatencyMs: 1000,
  minimumSamples: 50,
  maxUnknownChecks: 3,
  maxDegradedChecks: 2,
});
const sample = { requests: 1000, errors: 0, latencyMs: 100, unhealthyHosts: 0 };
const progress: GateProgress = { elapsedSeconds: 60, bakeSeconds: 300, unknownStreak: 0, degradedStreak: 0 };

describe('health verdicts', () => {
  it.each([
    ['healthy', [], sample, 'healthy', undefined],
    ['an alarm in ALARM', ['checkout-staging-error-rate-green'], sample, 'unhealthy', 'health-check-failure'],
    ['a latency alarm', ['checkout-staging-latency-green'], sample, 'unhealthy', 'performance-degradation'],
    ['errors over the threshold', [], { ...sample, errors: 60 }, 'unhealthy', 'health-check-failure'],
    [
      'latency over the threshold',
      [],
      { ...sample, latencyMs: 1500 },
      'unhealthy',
      'performance-degradation',
    ],
    ['unhealthy hosts', [], { ...sample, unhealthyHosts: 1 }, 'unhealthy', 'health-check-failure'],
    ['too few samples', [], { ...sample, requests: 10 }, 'unknown', undefined],
    ['no data at all', [], { requests: 0, errors: 0 }, 'unknown', undefined],
    ['errors near the threshold', [], { ...sample, errors: 45 }, 'degraded', undefined],
    ['latency near the threshold', [], { ...sample, latencyMs: 900 }, 'degraded', undefined],
  ] as const)('%s gives %s', (_case, alarms, s, status, trigger) => {
    const v = judge({ alarmsInAlarm: alarms, sample: s, thresholds: t });
    expect(v.status).toBe(status);
    expect(v.trigger).toBe(trigger);
    expect(v.reason).not.toBe('');
  });
});

describe('the gate', () => {
  it('fails at once on unhealthy', () => {
    expect(
      decide({ status: 'unhealthy', reason: 'x', trigger: 'performance-degradation' }, progress, t),
    ).toMatchObject({ outcome: 'fail', trigger: 'performance-degradation' });
  });

  it('waits through the bake while healthy, then passes', () => {
    expect(decide({ status: 'healthy', reason: 'ok' }, progress, t).outcome).toBe('wait');
    expect(decide({ status: 'healthy', reason: 'ok' }, { ...progress, elapsedSeconds: 300 }, t).outcome).toBe(
      'pass',
    );
  });

  it('never passes on unknown, and fails after too many unknowns when missing data means wait', () => {
    const over = { ...progress, elapsedSeconds: 300 };
    expect(decide({ status: 'unknown', reason: 'no data' }, over, t).outcome).toBe('wait');
    expect(decide({ status: 'unknown', reason: 'no data' }, { ...over, unknownStreak: 2 }, t)).toMatchObject({
      outcome: 'fail',
      trigger: 'health-check-failure',
    });
  });

  it('fails at the first unknown when missing data means fail', () => {
    expect(
      decide({ status: 'unknown', reason: 'no data' }, progress, { ...t, missingData: 'fail' }).outcome,
    ).toBe('fail');
  });

  it('fails on degraded checks in a row as performance degradation', () => {
    expect(decide({ status: 'degraded', reason: 'slow' }, progress, t).outcome).toBe('wait');
    expect(
      decide({ status: 'degraded', reason: 'slow' }, { ...progress, degradedStreak: 1 }, t),
    ).toMatchObject({ outcome: 'fail', trigger: 'performance-degradation' });
  });
});

describe('candidate readiness', () => {
  it.each([
    ['not steady', false, { requests: 0, errors: 0, healthyHosts: 2, unhealthyHosts: 0 }, false],
    ['no host health reported yet', true, { requests: 0, errors: 0 }, false],
    ['no healthy host yet', true, { requests: 0, errors: 0, healthyHosts: 0, unhealthyHosts: 2 }, false],
    [
      'unhealthy hosts over the limit',
      true,
      { requests: 0, errors: 0, healthyHosts: 2, unhealthyHosts: 1 },
      false,
    ],
    ['steady with healthy hosts', true, { requests: 0, errors: 0, healthyHosts: 2, unhealthyHosts: 0 }, true],
  ] as const)('%s → ready %s', (_case, steady, sample, ready) => {
    expect(candidateReadiness(steady, sample, 0).ready).toBe(ready);
  });
});
