/**
 * A simulation's report: one self-contained HTML file (inline CSS and SVG, no script, nothing fetched) with the
 * outcome, charts over simulated time (traffic weight per version; error rate and latency per version, with their
 * thresholds), alarm and rollback moments marked on every chart, and the timeline as a table.
 */
import type { MinuteSample, Role } from './workload';
import type { SimulationResult, SimulationTimelineEntry } from './simulation';

const COLORS: Record<Role, string> = { stable: '#2563eb', candidate: '#ea580c' };
const WIDTH = 920;
const HEIGHT = 190;
const MARGIN = { left: 64, right: 16, top: 14, bottom: 30 };

interface Marker {
  readonly at: number;
  readonly kind: 'start' | 'alarm' | 'rollback' | 'end';
  readonly label: string;
}

const MARKER_STYLE: Record<Marker['kind'], { color: string; dash: string }> = {
  start: { color: '#64748b', dash: '2 3' },
  alarm: { color: '#dc2626', dash: '6 3' },
  rollback: { color: '#7c3aed', dash: '' },
  end: { color: '#64748b', dash: '2 3' },
};

/** The report of a simulation as HTML text. */
export function renderReport(result: SimulationResult): string {
  const { series } = result;
  const times = [
    ...series.weights.map((w) => Date.parse(w.at)),
    ...series.minutes.map((m) => Date.parse(m.at) + 60_000),
  ];
  const t0 = Math.min(...times, Date.parse(result.execution.startedAt));
  const t1 = Math.max(...times, Date.parse(result.execution.stoppedAt), t0 + 60_000);
  const markers = markersOf(result);
  const x = (t: number) => MARGIN.left + ((t - t0) / (t1 - t0)) * (WIDTH - MARGIN.left - MARGIN.right);
  const percentile = series.thresholds.latencyPercentile;

  const traffic = chart({
    id: 'traffic',
    title: 'Traffic weight (% of production requests)',
    x,
    t0,
    t1,
    yMax: 100,
    unit: '%',
    markers,
    lines: (['stable', 'candidate'] as const).map((role) => ({
      role,
      step: true,
      points: trafficPoints(result, role),
    })),
  });
  const perMinute = (role: Role, value: (m: MinuteSample) => number | undefined) =>
    series.minutes
      .filter((m) => m.role === role)
      .flatMap((m) => {
        const v = value(m);
        return v === undefined ? [] : [{ t: Date.parse(m.at) + 30_000, v }];
      });
  const errorMax = Math.max(
    series.thresholds.errorRatePercent * 1.5,
    ...series.minutes.map((m) => m.errorRatePercent ?? 0),
  );
  const errors = chart({
    id: 'errors',
    title: 'Error rate per version (5xx % of its requests, per minute)',
    x,
    t0,
    t1,
    yMax: niceMax(errorMax),
    unit: '%',
    markers,
    threshold: {
      value: series.thresholds.errorRatePercent,
      label: `threshold ${series.thresholds.errorRatePercent}%`,
    },
    lines: (['stable', 'candidate'] as const).map((role) => ({
      role,
      points: perMinute(role, (m) => m.errorRatePercent),
    })),
  });
  const latencyMax = Math.max(
    series.thresholds.latencyMs * 1.3,
    ...series.minutes.map((m) => m.latencyMs ?? 0),
  );
  const latency = chart({
    id: 'latency',
    title: `Latency per version (${percentile} of the minute, ms)`,
    x,
    t0,
    t1,
    yMax: niceMax(latencyMax),
    unit: ' ms',
    markers,
    threshold: { value: series.thresholds.latencyMs, label: `threshold ${series.thresholds.latencyMs} ms` },
    lines: (['stable', 'candidate'] as const).map((role) => ({
      role,
      points: perMinute(role, (m) => m.latencyMs),
    })),
  });

  const outcomeClass =
    result.outcome === 'SUCCEEDED' ? 'ok' : result.outcome === 'ROLLED_BACK' ? 'rolled' : 'bad';
  const facts: [string, string][] = [
    ['Outcome', `${result.outcome}${result.trigger ? ` (trigger: ${result.trigger})` : ''}`],
    ['Service', `${result.service} in ${result.environment}`],
    [
      'Strategy',
      `${result.strategy}, steps taken: ${result.steps.length ? result.steps.map((s) => `${s}%`).join(' → ') : 'none'}`,
    ],
    [
      'Scenario',
      `${result.scenario.name}, seed ${result.seed}${result.scenario.description ? `: ${result.scenario.description}` : ''}`,
    ],
    ['Versions', `stable ${result.stableImage ?? '?'}; candidate ${result.image ?? '?'}`],
    [
      'Final traffic',
      `stable ${result.finalWeights.stable}%, candidate ${result.finalWeights.candidate}% (read from moto)`,
    ],
    [
      'Time to restore traffic',
      result.timeToRestoreTrafficMs === null
        ? 'no rollback'
        : `${result.timeToRestoreTrafficMs} ms (simulated)`,
    ],
    [
      'Execution',
      `${result.execution.status}${result.execution.error ? ` (${result.execution.error})` : ''}, ${clock(result.execution.startedAt)} to ${clock(result.execution.stoppedAt)} simulated`,
    ],
  ];
  if (result.error) facts.splice(1, 0, ['Error', result.error]);

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${esc(`${result.outcome}: ${result.strategy} of ${result.service}, scenario ${result.scenario.name}`)}</title>
<style>
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #0f172a; margin: 24px auto; max-width: ${WIDTH + 40}px; padding: 0 16px; }
h1 { font-size: 20px; margin: 0 0 4px; } h2 { font-size: 15px; margin: 24px 0 6px; }
.badge { display: inline-block; padding: 2px 10px; border-radius: 12px; font-weight: 600; color: #fff; }
.ok { background: #16a34a; } .rolled { background: #7c3aed; } .bad { background: #dc2626; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 12px 0; } dt { color: #475569; } dd { margin: 0; }
svg { display: block; background: #fff; border: 1px solid #e2e8f0; border-radius: 6px; margin: 6px 0 2px; }
svg text { font: 11px system-ui, sans-serif; fill: #334155; }
.legend { font-size: 12px; color: #334155; margin-bottom: 8px; } .legend span { margin-right: 14px; white-space: nowrap; }
.swatch { display: inline-block; width: 18px; height: 3px; vertical-align: middle; margin-right: 4px; }
table { border-collapse: collapse; width: 100%; font-size: 12.5px; } th, td { text-align: left; padding: 3px 6px; border-bottom: 1px solid #e2e8f0; vertical-align: top; }
th { background: #f1f5f9; } td.t { white-space: nowrap; font-variant-numeric: tabular-nums; } tr.alarm td { background: #fef2f2; } tr.rollback td { background: #f5f3ff; }
footer { color: #64748b; font-size: 12px; margin-top: 18px; }
</style>
</head>
<body>
<h1>Release rehearsal: ${esc(result.strategy)} of ${esc(result.service)} <span class="badge ${outcomeClass}">${esc(result.outcome)}</span></h1>
<dl>${facts.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('')}</dl>
<div class="legend">${legend()}</div>
<h2>Traffic</h2>
${traffic}
<h2>Error rate</h2>
${errors}
<h2>Latency</h2>
${latency}
<h2>Timeline</h2>
${timelineTable(result.timeline)}
<footer>All times are simulated (UTC). Deployment ${esc(result.deploymentId)}; ${result.simulatedSeconds} simulated seconds in ${(result.wallMs / 1000).toFixed(1)} s.</footer>
</body>
</html>
`;
}

function legend(): string {
  const line = (color: string, label: string, dash = '') =>
    `<span><svg width="18" height="6" style="display:inline;border:0;margin:0 4px 0 0;vertical-align:middle"><line x1="0" y1="3" x2="18" y2="3" stroke="${color}" stroke-width="2.5"${dash ? ` stroke-dasharray="${dash}"` : ''}/></svg>${label}</span>`;
  return [
    line(COLORS.stable, 'stable version'),
    line(COLORS.candidate, 'candidate version'),
    line('#94a3b8', 'threshold', '4 3'),
    line(MARKER_STYLE.alarm.color, 'alarm into ALARM', MARKER_STYLE.alarm.dash),
    line(MARKER_STYLE.rollback.color, 'traffic restored by rollback'),
    line(MARKER_STYLE.start.color, 'deployment start and end', MARKER_STYLE.start.dash),
  ].join('');
}

/**
 * Traffic over time: the weights read from moto at each tick, and the deployment's own changes at the moment
 * they happened (a tick reads the weights before the steps due at the same moment run).
 */
function trafficPoints(result: SimulationResult, role: Role): { t: number; v: number }[] {
  const points = [
    ...result.series.weights.map((w) => ({ t: Date.parse(w.at), v: w[role], order: 0 })),
    ...result.timeline
      .filter(
        (e) => e.source === 'deployment' && /^(traffic-shifted|rollback-started|succeeded)$/.test(e.event),
      )
      .map((e) => ({ t: Date.parse(e.at), v: e.weights[role], order: 1 })),
  ];
  return points.sort((a, b) => a.t - b.t || a.order - b.order).map(({ t, v }) => ({ t, v }));
}

function markersOf(result: SimulationResult): Marker[] {
  const markers: Marker[] = [{ at: Date.parse(result.execution.startedAt), kind: 'start', label: 'start' }];
  for (const t of result.alarmTransitions) {
    if (t.to === 'ALARM')
      markers.push({
        at: Date.parse(t.at),
        kind: 'alarm',
        label: t.alarmName.replace(`${result.service}-${result.environment}-`, ''),
      });
  }
  for (const r of result.records.rollbacks) {
    if (r.trafficRestoredAt)
      markers.push({
        at: Date.parse(r.trafficRestoredAt),
        kind: 'rollback',
        label: `rollback (${r.trigger})`,
      });
  }
  markers.push({ at: Date.parse(result.execution.stoppedAt), kind: 'end', label: 'end' });
  return markers;
}

interface ChartLine {
  readonly role: Role;
  readonly points: readonly { readonly t: number; readonly v: number }[];
  /** Draw as steps (a value holds until the next). */
  readonly step?: boolean;
}

function chart(spec: {
  id: string;
  title: string;
  x: (t: number) => number;
  t0: number;
  t1: number;
  yMax: number;
  unit: string;
  markers: readonly Marker[];
  lines: readonly ChartLine[];
  threshold?: { value: number; label: string };
}): string {
  const { x, t0, t1, yMax } = spec;
  const plotBottom = HEIGHT - MARGIN.bottom;
  const y = (v: number) => plotBottom - (Math.min(v, yMax) / yMax) * (plotBottom - MARGIN.top);
  const parts: string[] = [];
  // Grid and y axis labels.
  for (let i = 0; i <= 4; i++) {
    const v = (yMax * i) / 4;
    parts.push(
      `<line class="grid" x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${f(y(v))}" y2="${f(y(v))}" stroke="#e2e8f0"/>`,
      `<text x="${MARGIN.left - 6}" y="${f(y(v) + 4)}" text-anchor="end">${esc(fmtNumber(v))}${esc(spec.unit)}</text>`,
    );
  }
  // Time axis: a label every few minutes.
  const span = t1 - t0;
  const stepMinutes = [1, 2, 5, 10, 15, 30, 60].find((m) => span / (m * 60_000) <= 12) ?? 120;
  const first = Math.ceil(t0 / (stepMinutes * 60_000)) * stepMinutes * 60_000;
  for (let t = first; t <= t1; t += stepMinutes * 60_000) {
    parts.push(
      `<line x1="${f(x(t))}" x2="${f(x(t))}" y1="${plotBottom}" y2="${plotBottom + 4}" stroke="#94a3b8"/>`,
      `<text x="${f(x(t))}" y="${plotBottom + 16}" text-anchor="middle">${clock(new Date(t).toISOString()).slice(0, 5)}</text>`,
    );
  }
  parts.push(
    `<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${plotBottom}" y2="${plotBottom}" stroke="#94a3b8"/>`,
  );
  if (spec.threshold) {
    parts.push(
      `<line class="threshold" x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${f(y(spec.threshold.value))}" y2="${f(y(spec.threshold.value))}" stroke="#94a3b8" stroke-dasharray="4 3"/>`,
      `<text x="${WIDTH - MARGIN.right - 4}" y="${f(y(spec.threshold.value) - 4)}" text-anchor="end">${esc(spec.threshold.label)}</text>`,
    );
  }
  // Markers.
  for (const m of spec.markers) {
    const style = MARKER_STYLE[m.kind];
    const mx = f(x(m.at));
    parts.push(
      `<line class="marker marker-${m.kind}" x1="${mx}" x2="${mx}" y1="${MARGIN.top}" y2="${plotBottom}" stroke="${style.color}" stroke-width="1.5"${style.dash ? ` stroke-dasharray="${style.dash}"` : ''}><title>${esc(`${m.label} at ${clock(new Date(m.at).toISOString())}`)}</title></line>`,
    );
    if (m.kind === 'alarm' || m.kind === 'rollback') {
      parts.push(
        `<text x="${f(x(m.at) + 3)}" y="${MARGIN.top + 10 + (m.kind === 'rollback' ? 12 : 0)}" fill="${style.color}" style="fill:${style.color}">${esc(m.label)}</text>`,
      );
    }
  }
  // Series.
  for (const line of spec.lines) {
    if (line.points.length === 0) continue;
    let d = '';
    line.points.forEach((p, i) => {
      if (i === 0) d += `M${f(x(p.t))},${f(y(p.v))}`;
      else if (line.step) d += `H${f(x(p.t))}V${f(y(p.v))}`;
      else d += `L${f(x(p.t))},${f(y(p.v))}`;
    });
    parts.push(
      `<path class="series series-${line.role}" d="${d}" fill="none" stroke="${COLORS[line.role]}" stroke-width="2.2" stroke-linejoin="round"/>`,
    );
    if (!line.step) {
      for (const p of line.points) {
        parts.push(
          `<circle class="point point-${line.role}" cx="${f(x(p.t))}" cy="${f(y(p.v))}" r="2.6" fill="${COLORS[line.role]}"><title>${esc(`${line.role} ${clock(new Date(p.t - 30_000).toISOString()).slice(0, 5)}: ${fmtNumber(p.v)}${spec.unit}`)}</title></circle>`,
        );
      }
    }
  }
  return `<svg id="chart-${spec.id}" role="img" aria-label="${esc(spec.title)}" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="${WIDTH}" height="${HEIGHT}" xmlns="http://www.w3.org/2000/svg"><title>${esc(spec.title)}</title>${parts.join('')}</svg>
<div class="legend">${esc(spec.title)}</div>`;
}

function timelineTable(entries: readonly SimulationTimelineEntry[]): string {
  const rows = entries.map((e) => {
    const cls =
      e.source === 'alarm' && e.event === 'alarm' ? 'alarm' : /^roll/.test(e.event) ? 'rollback' : '';
    return `<tr${cls ? ` class="${cls}"` : ''}><td class="t">${clock(e.at)}</td><td>${esc(e.event)}</td><td class="t">${e.weights.stable}% / ${e.weights.candidate}%</td><td>${esc(e.message)}</td></tr>`;
  });
  return `<table id="timeline"><thead><tr><th>time</th><th>event</th><th>stable / candidate</th><th>detail</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

/** `2026-01-05T09:03:15.000Z` → `09:03:15`. */
function clock(iso: string): string {
  return iso.slice(11, 19);
}

function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const magnitude = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 1.2, 1.6, 2, 4, 6, 8, 10]) if (m * magnitude >= v) return m * magnitude;
  return 10 * magnitude;
}

function fmtNumber(v: number): string {
  return Number.isInteger(v) ? String(v) : v < 10 ? String(Number(v.toFixed(2))) : String(Math.round(v));
}

const f = (n: number) => (Math.round(n * 10) / 10).toString();

function esc(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}
