/**
 * `envctl simulate` as a user runs it: a child process that starts its own local cloud and leaves no process
 * behind; its JSON result, its progress, its errors naming the field; and its HTML report opened in headless
 * Chromium, where the charts must have been drawn (elements with geometry, not just markup in a file).
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

jest.setTimeout(90_000);

const ROOT = path.join(__dirname, '..', '..');
const ENVCTL = path.join(ROOT, 'bin', 'envctl.js');

interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly wallMs: number;
}

let dir: string;
let pidFile: string;
let motoWrapper: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'envctl-simulate-'));
  pidFile = path.join(dir, 'moto.pids');
  // moto_server through a wrapper that notes its pid, so that the test can check it is gone afterwards.
  motoWrapper = path.join(dir, 'moto_server');
  writeFileSync(motoWrapper, `#!/bin/sh\necho $$ >> '${pidFile}'\nexec moto_server "$@"\n`);
  chmodSync(motoWrapper, 0o755);
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Runs envctl in a child process on the tests' Node, from the repository root, without a terminal. */
function envctl(args: readonly string[]): Promise<Run> {
  const started = performance.now();
  const env: NodeJS.ProcessEnv = { ...process.env, MOTO_SERVER: motoWrapper };
  delete env.ENVCTL_CONFIG;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [ENVCTL, ...args], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGTERM'), 80_000);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr, wallMs: performance.now() - started });
    });
  });
}

const motoPids = () =>
  existsSync(pidFile) ? readFileSync(pidFile, 'utf8').split('\n').filter(Boolean).map(Number) : [];

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('envctl simulate', () => {
  let bad: Run;
  const report = () => path.join(dir, 'bad-release.html');

  beforeAll(async () => {
    bad = await envctl([
      'simulate',
      '--scenario',
      'bad-release',
      '--strategy',
      'blue-green',
      '--json',
      '--report',
      report(),
    ]);
  });

  it('rolls a bad release back and prints one JSON object with the result read from moto', () => {
    expect({ status: bad.status, stderr: bad.stderr.split('\n').filter((l) => /^error/.test(l)) }).toEqual({
      status: 0,
      stderr: [],
    });
    const result = JSON.parse(bad.stdout);
    expect(result).toMatchObject({
      outcome: 'ROLLED_BACK',
      trigger: 'health-check-failure',
      error: null,
      environment: 'staging',
      service: 'checkout',
      strategy: 'blue-green',
      finalWeights: { stable: 100, candidate: 0 },
      taskSets: [{ status: 'PRIMARY', role: 'stable', scale: 100 }],
      records: { deployment: { status: 'ROLLED_BACK' } },
    });
    expect(result.timeline.map((e: { event: string }) => e.event)).toEqual(
      expect.arrayContaining([
        'validated',
        'traffic-shifted',
        'health-verdict',
        'rollback-started',
        'execution-ended',
      ]),
    );
    expect(result.timeline.find((e: { event: string }) => e.event === 'traffic-shifted').weights).toEqual({
      stable: 0,
      candidate: 100,
    });
    expect(typeof result.timeToRestoreTrafficMs).toBe('number');
    expect(bad.wallMs).toBeLessThan(30_000);
  });

  it('shows progress on standard error, one plain line per change when not on a terminal', () => {
    const lines = bad.stderr.split('\n').filter(Boolean);

    expect(bad.stderr).not.toContain('\x1b[');
    expect(lines[0]).toMatch(/^\d\d:\d\d:\d\d\s+warm-up\s+traffic stable 100% candidate 0%\s+alarms OK$/);
    expect(
      lines.some((l) => /IN_PROGRESS\s+step 1\/1 \(100%\)\s+traffic stable 0% candidate 100%/.test(l)),
    ).toBe(true);
    expect(lines.some((l) => /ROLLED_BACK/.test(l))).toBe(true);
    expect(lines.at(-1)).toBe(`report written to ${report()}`);
  });

  it('leaves no moto_server behind', () => {
    const pids = motoPids();

    expect(pids.length).toBeGreaterThan(0);
    expect(pids.filter(alive)).toEqual([]);
  });

  it('writes a report whose charts Chromium draws: traffic, error rate and latency per version, alarm and rollback marked', () => {
    // Prepare: a copy of the report with a probe that measures what was drawn (the report itself has no script).
    const probe = `<script>
      const out = {};
      for (const id of ['traffic', 'errors', 'latency']) {
        const svg = document.getElementById('chart-' + id);
        const boxes = (selector) => [...svg.querySelectorAll(selector)].map((e) => { const b = e.getBBox(); return [e.getAttribute('class'), Math.round(b.width), Math.round(b.height)]; });
        out[id] = { width: Math.round(svg.getBoundingClientRect().width), series: boxes('path.series'), markers: boxes('line.marker'), points: svg.querySelectorAll('circle.point').length };
      }
      out.rows = document.querySelectorAll('#timeline tbody tr').length;
      const pre = document.createElement('pre');
      pre.id = 'probe';
      pre.textContent = JSON.stringify(out);
      document.body.append(pre);
    </script>`;
    const html = readFileSync(report(), 'utf8');
    expect(html).not.toMatch(/<script|\b(?:src|href)=/);
    const probed = path.join(dir, 'probed.html');
    writeFileSync(probed, html.replace('</body>', `${probe}</body>`));
    const profile = mkdtempSync(path.join(dir, 'chromium-'));
    // Act
    const run = spawnSync(
      'chromium',
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        `--user-data-dir=${profile}`,
        '--dump-dom',
        `file://${probed}`,
      ],
      { encoding: 'utf8', timeout: 60_000 },
    );
    // Assess
    expect(run.error).toBeUndefined();
    const match = /<pre id="probe">(.*?)<\/pre>/.exec(run.stdout);
    expect(match).not.toBeNull();
    const drawn = JSON.parse(match![1]!.replace(/&quot;/g, '"'));
    for (const id of ['traffic', 'errors', 'latency']) {
      expect(drawn[id].width).toBeGreaterThan(500);
      expect(drawn[id].series.map((s: [string]) => s[0])).toEqual([
        'series series-stable',
        'series series-candidate',
      ]);
      for (const [, width] of drawn[id].series) expect(width).toBeGreaterThan(0);
      expect(drawn[id].markers.map((m: [string]) => m[0])).toEqual(
        expect.arrayContaining(['marker marker-start', 'marker marker-rollback', 'marker marker-end']),
      );
      for (const [, , height] of drawn[id].markers) expect(height).toBeGreaterThan(50);
    }
    // The traffic lines move: the candidate went to 100 % and back.
    expect(drawn.traffic.series[1][2]).toBeGreaterThan(50);
    expect(drawn.errors.points).toBeGreaterThan(5);
    expect(drawn.rows).toBeGreaterThan(5);
    const left = spawnSync('pgrep', ['-f', profile], { encoding: 'utf8' });
    expect(left.stdout.trim()).toBe('');
  });
});

describe('envctl simulate with bad input', () => {
  it('rejects a raw console input naming the field, with the REJECTED result and a non-zero exit', async () => {
    const input = path.join(dir, 'input.json');
    writeFileSync(
      input,
      JSON.stringify({
        environment: 'staging',
        service: 'checkout',
        image: 'registry/checkout:2',
        colour: 'blue',
      }),
    );

    const run = await envctl(['simulate', '--input', input, '--json', '--no-progress']);

    expect(run.status).toBe(1);
    expect(JSON.parse(run.stdout)).toMatchObject({
      outcome: 'REJECTED',
      finalWeights: { stable: 100, candidate: 0 },
    });
    expect(run.stderr).toMatch(/^error: the deployment ended REJECTED: .*colour.*$/m);
  });

  it('rejects a scenario file naming the field, before starting anything', async () => {
    const file = path.join(dir, 'scenario.json');
    writeFileSync(file, JSON.stringify({ name: 'mine', candidate: { errorRatePercent: 140 } }));
    const before = motoPids().length;

    const run = await envctl(['simulate', '--scenario-file', file]);

    expect(run.status).toBe(1);
    expect(run.stderr).toBe(
      `error: scenario file ${file}: field candidate.errorRatePercent: must be at most 100\n`,
    );
    expect(motoPids()).toHaveLength(before);
  });

  it('names an unknown scenario and lists the built-in ones', async () => {
    const run = await envctl(['simulate', '--scenario', 'nope']);

    expect(run.status).toBe(1);
    expect(run.stderr).toContain(
      'no built-in scenario "nope" (built-in: healthy, bad-release, latency-regression, late-failure, flaky-start)',
    );
  });
});
