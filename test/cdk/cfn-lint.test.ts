import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { buildApp } from '../../lib/app';
import { loadConfigFile } from '../../lib/config/load';

/** One finding as `cfn-lint --format json` prints it. */
interface Finding {
  readonly Filename: string;
  readonly Level: 'Error' | 'Warning' | 'Informational';
  readonly Message: string;
  readonly Rule: { readonly Id: string };
  readonly Location: { readonly Path: readonly (string | number)[] };
}

const shown = (f: Finding) =>
  `${path.basename(f.Filename)} ${f.Rule.Id} ${f.Location.Path.join('/')}: ${f.Message}`;

describe('cfn-lint', () => {
  let outdir: string;
  let templates: string[];
  let findings: Finding[];

  beforeAll(() => {
    // Prepare: the real app from the sample config, synthesized to a temporary cloud assembly
    outdir = mkdtempSync(path.join(os.tmpdir(), 'envctl-cfn-lint-'));
    const config = loadConfigFile();
    const app = new App({ outdir, context: { 'aws:cdk:bundling-stacks': [] } });
    buildApp(app, config);
    app.synth();
    templates = readdirSync(outdir)
      .filter((f) => f.endsWith('.template.json'))
      .map((f) => path.join(outdir, f));
    const regions = [...new Set(config.environments.map((e) => e.region))];

    // Act
    const run = spawnSync('cfn-lint', ['--format', 'json', '--regions', ...regions, '--', ...templates], {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
    if (run.error) {
      throw new Error(`cannot run cfn-lint (${run.error.message}); install it with: pip install cfn-lint`);
    }
    try {
      findings = JSON.parse(run.stdout) as Finding[];
    } catch {
      throw new Error(`cfn-lint exited with ${run.status} and no JSON report: ${run.stderr || run.stdout}`);
    }
  }, 120_000);

  afterAll(() => {
    if (outdir) rmSync(outdir, { recursive: true, force: true });
  });

  it('lints one template per environment', () => {
    expect(templates.map((t) => path.basename(t)).sort()).toEqual([
      'EnvironmentController-development.template.json',
      'EnvironmentController-production.template.json',
      'EnvironmentController-staging.template.json',
    ]);
  });

  it('finds no error in any template', () => {
    const warnings = findings.filter((f) => f.Level !== 'Error');
    if (warnings.length > 0) {
      // Allowed; summarized as one line per rule with its first occurrence.
      const byRule = new Map<string, Finding[]>();
      for (const w of warnings) byRule.set(w.Rule.Id, [...(byRule.get(w.Rule.Id) ?? []), w]);
      const summary = [...byRule.values()].map((all) => `${all.length} x ${shown(all[0]!)}`);
      console.info(`cfn-lint warnings (allowed):\n${summary.join('\n')}`);
    }
    expect(findings.filter((f) => f.Level === 'Error').map(shown)).toEqual([]);
  });
});
