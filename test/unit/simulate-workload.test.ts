/**
 * The workload model's pure parts (seeded draws, splitting by weight, latency percentiles) and the scenarios
 * (validation naming the field, behaviour over uptime, service settings merged and validated).
 */
import { loadConfigFile } from '../../lib/config/load';
import { cdf, mixtureQuantile, percentileOfStatistic, quantile } from '../../localcloud/percentiles';
import {
  applyScenarioSettings,
  behaviourAt,
  BUILT_IN_SCENARIO_NAMES,
  builtInScenario,
  parseScenario,
} from '../../localcloud/scenarios';
import { canonicalDimensions, Random, splitByWeight } from '../../localcloud/workload';

describe('Random', () => {
  it('gives the same draws for the same seed, and other draws for another', () => {
    const draws = (seed: number) => {
      const r = new Random(seed);
      return [r.next(), r.binomial(300, 0.02), r.count(750), r.normal()];
    };

    expect(draws(7)).toEqual(draws(7));
    expect(draws(7)).not.toEqual(draws(8));
  });

  it.each([
    [300, 0.001],
    [300, 0.25],
    [3000, 0.6],
  ])('draws binomial(%d, %d) around its mean, never outside 0..n', (n, p) => {
    const r = new Random(42);
    const xs = Array.from({ length: 400 }, () => r.binomial(n, p));
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;

    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThanOrEqual(n);
    expect(Math.abs(mean - n * p)).toBeLessThan(Math.max(0.1, 4 * Math.sqrt((n * p * (1 - p)) / xs.length)));
  });
});

describe('splitByWeight', () => {
  it('sends every request of a slice to the slots by weight, none to a slot of weight 0', () => {
    const r = new Random(1);

    expect(splitByWeight(750, { blue: 100, green: 0 }, r)).toEqual({ blue: 750, green: 0 });
    expect(splitByWeight(750, { blue: 0, green: 0 }, r)).toEqual({ blue: 0, green: 0 });
    const split = splitByWeight(10_000, { blue: 90, green: 10 }, r);
    expect(split.blue + split.green).toBe(10_000);
    expect(split.green).toBeGreaterThan(880);
    expect(split.green).toBeLessThan(1120);
  });
});

describe('latency percentiles', () => {
  const healthy = { p50: 80, p99: 350 };

  it('gives back the median and the 99th percentile a distribution is defined by', () => {
    expect(quantile(healthy, 0.5)).toBeCloseTo(80, 6);
    expect(quantile(healthy, 0.99)).toBeCloseTo(350, 4);
    expect(cdf(healthy, 350)).toBeCloseTo(0.99, 5);
  });

  it('puts the percentile of a mixture between its parts, nearer the part with more requests', () => {
    const slow = { p50: 400, p99: 1700 };

    const mostlyHealthy = mixtureQuantile(
      [
        { weight: 90, latency: healthy },
        { weight: 10, latency: slow },
      ],
      0.99,
    )!;
    const mostlySlow = mixtureQuantile(
      [
        { weight: 10, latency: healthy },
        { weight: 90, latency: slow },
      ],
      0.99,
    )!;

    expect(mostlyHealthy).toBeGreaterThan(350);
    expect(mostlyHealthy).toBeLessThan(1700);
    expect(mostlySlow).toBeGreaterThan(mostlyHealthy);
    expect(mixtureQuantile([{ weight: 5, latency: slow }], 0.99)).toBeCloseTo(1700, 3);
    expect(mixtureQuantile([], 0.99)).toBeUndefined();
  });

  it.each([
    ['p99', 0.99],
    ['p50', 0.5],
    ['p99.9', 0.999],
    ['Maximum', undefined],
    ['p100', undefined],
  ])('reads the statistic %s as the quantile %s', (statistic, p) => {
    if (p === undefined) expect(percentileOfStatistic(statistic)).toBeUndefined();
    else expect(percentileOfStatistic(statistic)).toBeCloseTo(p, 12);
  });
});

describe('canonicalDimensions', () => {
  it('lists dimensions by name, whatever order they came in', () => {
    const tg = { Name: 'TargetGroup', Value: 'targetgroup/a/1' };
    const lb = { Name: 'LoadBalancer', Value: 'app/b/2' };

    expect(canonicalDimensions([tg, lb])).toEqual([lb, tg]);
    expect(canonicalDimensions([lb, tg])).toEqual([lb, tg]);
  });
});

describe('scenarios', () => {
  it('has the five built-in scenarios, each valid', () => {
    expect(BUILT_IN_SCENARIO_NAMES).toEqual([
      'healthy',
      'bad-release',
      'latency-regression',
      'late-failure',
      'flaky-start',
    ]);
    expect(builtInScenario('healthy')).toMatchObject({
      requestsPerMinute: 3000,
      candidate: { errorRatePercent: 0.1, phases: [] },
    });
  });

  it('changes a version by the phases begun at its uptime', () => {
    const late = builtInScenario('late-failure').candidate;

    expect(behaviourAt(late, 0).errorRatePercent).toBe(0.1);
    expect(behaviourAt(late, 119).errorRatePercent).toBe(0.1);
    expect(behaviourAt(late, 120)).toEqual({
      errorRatePercent: 30,
      latencyMs: { p50: 80, p99: 350 },
      unhealthyHosts: 0,
    });
    expect(behaviourAt(builtInScenario('flaky-start').candidate, 30).unhealthyHosts).toBe(1);
    expect(behaviourAt(builtInScenario('flaky-start').candidate, 40).unhealthyHosts).toBe(0);
  });

  it.each([
    [
      { name: 'x', candidate: { errorRatePercent: 120 } },
      'field candidate.errorRatePercent: must be at most 100',
    ],
    [
      { name: 'x', candidate: { latencyMs: { p50: 500, p99: 100 } } },
      'field candidate.latencyMs.p99: must not be below p50',
    ],
    [
      { name: 'x', stable: { phases: [{ afterSeconds: 60 }, { afterSeconds: 30 }] } },
      "field stable.phases[1].afterSeconds: must be after the previous phase's 60",
    ],
    [{ name: 'x', candidate: { errorRate: 5 } }, 'field candidate.errorRate: unknown field'],
    [{ name: 'Bad Name' }, 'field name: must be lower-case letters'],
    [{ candidate: {} }, 'field name: is missing'],
    [{ name: 'x', requestsPerMinute: 2.5 }, 'field requestsPerMinute: must be a whole number'],
  ])('rejects %j naming the field', (raw, message) => {
    expect(() => parseScenario(raw, 'scenario file s.json')).toThrow(`scenario file s.json: ${message}`);
  });

  it("merges a scenario's service settings over the config's and validates them as the config is", () => {
    const config = loadConfigFile();
    const scenario = parseScenario(
      { name: 'x', service: { alarms: { tuning: { datapointsToAlarm: 1 } } } },
      'x',
    );

    const merged = applyScenarioSettings(config, 'staging', 'checkout', scenario);
    const checkout = merged.environments
      .find((e) => e.name === 'staging')!
      .services.find((s) => s.name === 'checkout')!;

    expect(checkout.alarms.tuning).toEqual({
      periodSeconds: 60,
      evaluationPeriods: 3,
      datapointsToAlarm: 1,
      treatMissingData: 'notBreaching',
    });
    expect(checkout.health.maxErrorRatePercent).toBe(2);
    const bad = parseScenario({ name: 'x', service: { deployment: { healthCheckIntervalSeconds: 5 } } }, 'x');
    expect(() => applyScenarioSettings(config, 'staging', 'checkout', bad, 'scenario file s.json')).toThrow(
      'scenario file s.json: field service.deployment.healthCheckIntervalSeconds: must be at least 10',
    );
    const unknown = parseScenario({ name: 'x', service: { deployment: { bakeMinutes: 5 } } }, 'x');
    expect(() => applyScenarioSettings(config, 'staging', 'checkout', unknown)).toThrow(
      /field service\.deployment\.bakeMinutes: unknown field/,
    );
  });
});
