/** BENCHMARKS.md, rendered from every section stored in bench/results.json. */
import type { StoredResults } from './run';
import { seconds, table } from './support/stats';
import { SECTION_IDS, type Figure, type SectionResult } from './support/types';

const met = (f: Figure) => (f.met === undefined ? '' : f.met ? 'met' : '**not met**');

const when = (r: SectionResult) =>
  `Measured ${r.measuredAt.slice(0, 16).replace('T', ' ')} UTC in ${seconds(r.wallMs)}; load average ${r.load.before} at the start, ${r.load.after} at the end.`;

function figuresTable(figures: readonly Figure[]): string[] {
  return table(
    ['figure', 'value', 'goal', ''],
    figures.map((f) => [f.label, f.value.replace(/\|/g, '\\|'), f.goal ?? '', met(f)]),
  );
}

export function renderBenchmarks(stored: StoredResults): string {
  const m = stored.machine;
  const sections = SECTION_IDS.map((id) => stored.sections[id]).filter((s): s is SectionResult => !!s);
  const testLoad = (
    stored.sections['developer-loop']?.data as { tests?: { load?: { before: number; after: number } } }
  )?.tests?.load;
  const loads = [
    ...sections.flatMap((s) => [s.load.before, s.load.after]),
    ...(testLoad ? [testLoad.before, testLoad.after] : []),
  ];
  const out: string[] = [
    '# Benchmarks',
    '',
    'Figures printed and written here by `npm run bench` (`bench/run.ts`, one module per section under `bench/`).',
    'Every local-cloud figure comes from the real handlers and state machine definitions against `moto_server` on',
    "loopback, so AWS latencies are moto's; what the figures compare is the controller's own work against them.",
    '',
    '## Machine',
    '',
    ...table(
      ['', ''],
      [
        ['CPU', `${m.cpus} × ${m.cpuModel}`],
        ['memory', `${m.memoryGiB} GiB`],
        ['OS', m.os],
        ['Node', `${m.node} (the \`node\` dev dependency, first on PATH under \`npm run\`)`],
        ['moto', m.moto],
        ['esbuild / aws-cdk-lib / AWS SDK v3', `${m.esbuild} / ${m.awsCdkLib} / ${m.awsSdk}`],
      ],
    ),
    '',
    `The machine was shared with other work while these figures were taken: the 1-minute load average ranged`,
    `from ${Math.min(...loads)} to ${Math.max(...loads)} on ${m.cpus} cores (each section gives its own). Above ${m.cpus}, processes wait`,
    'for a CPU, which inflates wall times: most of all the cold-start init times and the test suite.',
    '',
    '## Summary',
    '',
    ...table(
      ['section', 'figure', 'value', 'goal', ''],
      sections.flatMap((s) =>
        s.figures.map((f) => [s.title, f.label, f.value.replace(/\|/g, '\\|'), f.goal ?? '', met(f)]),
      ),
    ),
  ];
  sections.forEach((s, i) => {
    out.push('', `## ${i + 1}. ${s.title}`, '', `_${when(s)}_`, '');
    if (s.error) out.push(`**This section failed:** \`${s.error.replace(/`/g, "'")}\``, '');
    out.push(...figuresTable(s.figures), '', ...s.markdown);
    const baseline = stored.baselines[s.id];
    if (baseline) {
      out.push(
        '',
        `### Before (${baseline.measuredAt.slice(0, 16).replace('T', ' ')} UTC, load ${baseline.load.before}–${baseline.load.after})`,
        '',
        'Measured before the change, under its own load: for times, the like-for-like comparison is the one',
        'measured in the same run, above.',
        '',
        ...figuresTable(baseline.figures),
      );
    }
  });
  out.push(
    '',
    '## Reproduce',
    '',
    "With `npm ci` done and `moto_server` on PATH (`pip install 'moto[server]'`):",
    '',
    '```sh',
    'npm run bench                                # every section, the test suite included (about 5 minutes of it)',
    'npm run bench -- --skip-tests                # every section but the test suite (its last figure stays)',
    `npm run bench -- --only cold-start           # one or more sections: ${SECTION_IDS.join(', ')}`,
    'npm run bench -- --runs 100 --init-runs 30   # more alarms (time to safety) or processes per bundle',
    '```',
    '',
    ...(stored.fullRuns.length > 0
      ? [
          'Whole runs (every section) on this machine; they wait on moto and on the CPU, so they take longer when',
          'other work shares the cores:',
          '',
          ...table(
            ['finished (UTC)', 'wall', 'test suite', 'load average start → end'],
            stored.fullRuns.map((r) => [
              r.at.slice(0, 16).replace('T', ' '),
              `${(r.wallMs / 60_000).toFixed(1)} min`,
              r.skipTests ? 'skipped' : 'included',
              `${r.load.before} → ${r.load.after}`,
            ]),
          ),
          '',
        ]
      : []),
    'Each section has a time budget; past it, it is aborted and its local clouds and processes stopped. The',
    'figures are kept in `bench/results.json`, and this file is rendered from it, so running one section',
    'updates that section and leaves the others as they were measured. `--save-baseline` stores a run as the',
    '"before" of its section (used for the cold-start figures before the bundling change).',
    '',
  );
  return out.join('\n');
}
