/**
 * The health gate: verdicts on a candidate from its alarms and metrics, and what the gate does with them.
 * Pure functions, tested by direct calls.
 */
import type { HealthStatus, HealthThresholds, RollbackTrigger } from './config';

/** What the metrics reader saw over the window, for the candidate's target group. */
export interface MetricSample {
  readonly requests: number;
  readonly errors: number;
  /** The configured latency percentile in milliseconds; undefined when there was no datapoint. */
  readonly latencyMs?: number;
  /** Maximum unhealthy hosts seen in the window; undefined when there was no datapoint. */
  readonly unhealthyHosts?: number;
  /** Minimum healthy hosts seen in the window; undefined when there was no datapoint. */
  readonly healthyHosts?: number;
}

export interface Verdict {
  readonly status: HealthStatus;
  readonly reason: string;
  /** For an unhealthy verdict, which trigger a rollback carries. */
  readonly trigger?: Extract<RollbackTrigger, 'health-check-failure' | 'performance-degradation'>;
}

/** A metric above this share of its threshold makes the verdict degraded (a warning, not yet a failure). */
export const DEGRADED_RATIO = 0.8;

export function judge(input: {
  alarmsInAlarm: readonly string[];
  sample: MetricSample;
  thresholds: HealthThresholds;
}): Verdict {
  const { alarmsInAlarm, sample, thresholds: t } = input;
  if (alarmsInAlarm.length > 0) {
    const latency = alarmsInAlarm.every((a) => /-latency(-blue|-green)?$/.test(a));
    return {
      status: 'unhealthy',
      reason: `alarm in ALARM: ${alarmsInAlarm.join(', ')}`,
      trigger: latency ? 'performance-degradation' : 'health-check-failure',
    };
  }
  if (sample.unhealthyHosts !== undefined && sample.unhealthyHosts > t.maxUnhealthyHosts) {
    return {
      status: 'unhealthy',
      reason: `${sample.unhealthyHosts} unhealthy hosts (max ${t.maxUnhealthyHosts})`,
      trigger: 'health-check-failure',
    };
  }
  if (sample.requests < t.minimumSamples) {
    return {
      status: 'unknown',
      reason: `${sample.requests} requests in the window, fewer than the ${t.minimumSamples} needed`,
    };
  }
  const errorRate = (sample.errors / sample.requests) * 100;
  if (errorRate > t.maxErrorRatePercent) {
    return {
      status: 'unhealthy',
      reason: `error rate ${fmt(errorRate)}% over ${t.maxErrorRatePercent}% (${sample.errors}/${sample.requests})`,
      trigger: 'health-check-failure',
    };
  }
  if (sample.latencyMs !== undefined && sample.latencyMs > t.maxLatencyMs) {
    return {
      status: 'unhealthy',
      reason: `${t.latencyPercentile} latency ${fmt(sample.latencyMs)} ms over ${t.maxLatencyMs} ms`,
      trigger: 'performance-degradation',
    };
  }
  const warnings: string[] = [];
  if (t.maxErrorRatePercent > 0 && errorRate > t.maxErrorRatePercent * DEGRADED_RATIO) {
    warnings.push(`error rate ${fmt(errorRate)}% near ${t.maxErrorRatePercent}%`);
  }
  if (sample.latencyMs !== undefined && sample.latencyMs > t.maxLatencyMs * DEGRADED_RATIO) {
    warnings.push(`${t.latencyPercentile} latency ${fmt(sample.latencyMs)} ms near ${t.maxLatencyMs} ms`);
  }
  if (warnings.length > 0) return { status: 'degraded', reason: warnings.join('; ') };
  return {
    status: 'healthy',
    reason: `error rate ${fmt(errorRate)}%, ${t.latencyPercentile} ${sample.latencyMs === undefined ? 'n/a' : `${fmt(sample.latencyMs)} ms`}, ${sample.requests} requests`,
  };
}

/** Counters the gate carries from one check to the next within a bake. */
export interface GateProgress {
  /** Seconds of the bake elapsed at this check (the waits so far). */
  readonly elapsedSeconds: number;
  readonly bakeSeconds: number;
  readonly unknownStreak: number;
  readonly degradedStreak: number;
}

export type GateDecision =
  | { readonly outcome: 'pass'; readonly verdict: Verdict }
  | { readonly outcome: 'wait'; readonly verdict: Verdict; readonly progress: GateProgress }
  | {
      readonly outcome: 'fail';
      readonly verdict: Verdict;
      readonly trigger: Extract<RollbackTrigger, 'health-check-failure' | 'performance-degradation'>;
    };

/**
 * What the gate does with a verdict: fail at once on unhealthy; tolerate a bounded number of unknown (when missing
 * data means wait) and degraded checks in a row; pass once the bake time is over with a verdict that is not unknown.
 */
export function decide(verdict: Verdict, progress: GateProgress, t: HealthThresholds): GateDecision {
  if (verdict.status === 'unhealthy')
    return { outcome: 'fail', verdict, trigger: verdict.trigger ?? 'health-check-failure' };
  const unknownStreak = verdict.status === 'unknown' ? progress.unknownStreak + 1 : 0;
  const degradedStreak = verdict.status === 'degraded' ? progress.degradedStreak + 1 : 0;
  if (verdict.status === 'unknown' && (t.missingData === 'fail' || unknownStreak >= t.maxUnknownChecks)) {
    return {
      outcome: 'fail',
      verdict: {
        status: 'unknown',
        reason: `${verdict.reason}; ${t.missingData === 'fail' ? 'missing data fails the gate' : `${unknownStreak} checks without enough data`}`,
      },
      trigger: 'health-check-failure',
    };
  }
  if (verdict.status === 'degraded' && degradedStreak >= t.maxDegradedChecks) {
    return {
      outcome: 'fail',
      verdict: {
        status: 'degraded',
        reason: `${verdict.reason}; degraded ${degradedStreak} checks in a row`,
      },
      trigger: 'performance-degradation',
    };
  }
  if (progress.elapsedSeconds >= progress.bakeSeconds && verdict.status !== 'unknown')
    return { outcome: 'pass', verdict };
  return { outcome: 'wait', verdict, progress: { ...progress, unknownStreak, degradedStreak } };
}

/** How long to wait before the next check of a bake: the interval, or what is left of the bake if less. */
export function nextCheckSeconds(progress: GateProgress, checkIntervalSeconds: number): number {
  const left = progress.bakeSeconds - progress.elapsedSeconds;
  return left > 0 ? Math.min(checkIntervalSeconds, left) : checkIntervalSeconds;
}

const fmt = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(2));

/**
 * Whether a candidate is ready for traffic: its task set is steady, and its target group reports healthy hosts
 * and no more unhealthy ones than allowed. No host-health data yet means not ready, never ready by default.
 */
export function candidateReadiness(
  steady: boolean,
  sample: MetricSample,
  maxUnhealthyHosts: number,
): { ready: boolean; reason: string } {
  if (!steady) return { ready: false, reason: 'task set not steady yet' };
  if (sample.healthyHosts === undefined) return { ready: false, reason: 'no host health reported yet' };
  if (sample.healthyHosts === 0) return { ready: false, reason: 'no healthy host yet' };
  const unhealthy = sample.unhealthyHosts ?? 0;
  if (unhealthy > maxUnhealthyHosts) return { ready: false, reason: `${unhealthy} unhealthy hosts` };
  return { ready: true, reason: `${sample.healthyHosts} healthy hosts, ${unhealthy} unhealthy` };
}
