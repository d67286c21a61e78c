/**
 * Latency as the workload model describes it: each version's response time is a log-normal distribution fixed by
 * its median (p50) and its 99th percentile, and a target group's latency over a minute is the percentile of the
 * mixture of what it served in that minute (one version, or several slices of one version whose behaviour
 * changed). Pure functions.
 */

/** A response-time distribution, in milliseconds. */
export interface LatencyDistribution {
  readonly p50: number;
  /** At least p50. */
  readonly p99: number;
}

/** One part of a mixture: how many requests were served with this distribution. */
export interface MixtureComponent {
  readonly weight: number;
  readonly latency: LatencyDistribution;
}

const Z99 = inverseNormalCdf(0.99);

/** `p99` → 0.99, `p99.9` → 0.999; undefined for anything that is not a percentile statistic. */
export function percentileOfStatistic(statistic: string): number | undefined {
  const m = /^p(\d{1,2}(?:\.\d+)?)$/.exec(statistic);
  if (!m) return undefined;
  const p = Number(m[1]) / 100;
  return p > 0 && p < 1 ? p : undefined;
}

/** The quantile `p` (0 < p < 1) of one distribution. */
export function quantile(latency: LatencyDistribution, p: number): number {
  const { mu, sigma } = parameters(latency);
  return Math.exp(mu + sigma * inverseNormalCdf(p));
}

/** The share of requests answered within `ms`. */
export function cdf(latency: LatencyDistribution, ms: number): number {
  if (ms <= 0) return 0;
  const { mu, sigma } = parameters(latency);
  if (sigma === 0) return ms >= latency.p50 ? 1 : 0;
  return normalCdf((Math.log(ms) - mu) / sigma);
}

/**
 * The quantile `p` of a mixture, found by bisection on the mixture's CDF between the components' own quantiles
 * (the mixture's lies between them). Undefined when the mixture has no weight.
 */
export function mixtureQuantile(components: readonly MixtureComponent[], p: number): number | undefined {
  const parts = components.filter((c) => c.weight > 0);
  const total = parts.reduce((sum, c) => sum + c.weight, 0);
  if (parts.length === 0 || total <= 0) return undefined;
  const bounds = parts.map((c) => quantile(c.latency, p));
  let lo = Math.min(...bounds);
  let hi = Math.max(...bounds);
  if (hi - lo < 1e-9) return lo;
  const mixCdf = (x: number) => parts.reduce((sum, c) => sum + c.weight * cdf(c.latency, x), 0) / total;
  for (let i = 0; i < 60 && hi - lo > 1e-6 * hi; i++) {
    const mid = (lo + hi) / 2;
    if (mixCdf(mid) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

function parameters(latency: LatencyDistribution): { mu: number; sigma: number } {
  const mu = Math.log(latency.p50);
  const sigma = Math.max(0, (Math.log(latency.p99) - mu) / Z99);
  return { mu, sigma };
}

/** Standard normal CDF (Abramowitz and Stegun 7.1.26 on erf; absolute error under 1.5e-7). */
export function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const poly =
    t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erf = 1 - poly * Math.exp(-x * x);
  return z >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}

/** Inverse of the standard normal CDF (Acklam's rational approximation; relative error under 1.2e-9). */
export function inverseNormalCdf(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`probability must be between 0 and 1, not ${p}`);
  const a = [
    -39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716,
    2.506628277459239,
  ];
  const b = [
    -54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572,
  ];
  const c = [
    -0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968,
    2.938163982698783,
  ];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (
      (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) /
      ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1)
    );
  }
  if (p > 1 - low) {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    return (
      -(((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) /
      ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1)
    );
  }
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) /
    (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1)
  );
}
