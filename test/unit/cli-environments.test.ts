import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DEFAULT_CONFIG_FILE } from '../../lib/config/load';

const ROOT = path.join(__dirname, '..', '..');
const ENVCTL = path.join(ROOT, 'bin', 'envctl.js');

interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `envctl` as a user would, in a child process on the same Node as the tests, from the repository root. */
function envctl(args: readonly string[], env: Record<string, string> = {}): Run {
  const childEnv = { ...process.env };
  delete childEnv.ENVCTL_CONFIG;
  const run = spawnSync(process.execPath, [ENVCTL, ...args], {
    cwd: ROOT,
    env: { ...childEnv, ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
  if (run.error) throw run.error;
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

const lines = (text: string) => text.split('\n').filter((l) => l !== '');

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const sample = (): any => JSON.parse(readFileSync(DEFAULT_CONFIG_FILE, 'utf8'));

describe('envctl', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'envctl-cli-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  const write = (name: string, text: string) => {
    const file = path.join(dir, name);
    writeFileSync(file, text);
    return file;
  };

  describe('--help', () => {
    it('lists the commands and the global options, and exits 0', () => {
      const run = envctl(['--help']);

      expect(run.status).toBe(0);
      expect(run.stdout).toMatch(/^Usage: envctl \[options\] \[command\]/);
      expect(run.stdout).toContain('environments [options]');
      expect(run.stdout).toContain('-c, --config <file>');
      expect(run.stderr).toBe('');
    });

    it("shows a command's own options and the global ones", () => {
      const run = envctl(['environments', '--help']);

      expect(run.status).toBe(0);
      expect(run.stdout).toMatch(/^Usage: envctl environments \[options\]/);
      expect(run.stdout).toContain('--json');
      expect(run.stdout).toContain('--config <file>');
    });
  });

  describe('environments', () => {
    it('lists each environment with its services, strategy, options and approval', () => {
      const run = envctl(['environments']);

      expect(run.status).toBe(0);
      expect(run.stderr).toBe('');
      expect(run.stdout).toBe(
        [
          'development  (development, account 111111111111, region eu-west-1)',
          '  SERVICE   STRATEGY    OPTIONS                   APPROVAL',
          '  checkout  rolling     50 % per step, bake 60 s  no',
          '  catalog   blue-green  bake 60 s                 no',
          '',
          'staging  (staging, account 222222222222, region eu-west-1)',
          '  SERVICE   STRATEGY  OPTIONS                        APPROVAL',
          '  checkout  canary    steps 10/50/100 %, bake 300 s  no',
          '  catalog   canary    steps 25/100 %, bake 180 s     no',
          '',
          'production  (production, account 333333333333, region eu-west-1)',
          '  SERVICE   STRATEGY  OPTIONS                          APPROVAL',
          '  checkout  canary    steps 5/25/50/100 %, bake 600 s  required',
          '  catalog   canary    steps 10/50/100 %, bake 600 s    required',
          '',
        ].join('\n'),
      );
    });

    it('prints JSON for scripts with --json', () => {
      const run = envctl(['environments', '--json']);

      expect(run.status).toBe(0);
      const environments = JSON.parse(run.stdout);
      expect(environments.map((e: { name: string }) => e.name)).toEqual([
        'development',
        'staging',
        'production',
      ]);
      expect(environments[0]).toMatchObject({
        type: 'development',
        account: '111111111111',
        region: 'eu-west-1',
      });
      expect(environments[0].services[0]).toEqual({
        name: 'checkout',
        cluster: sample().environments[0].services[0].cluster,
        ecsService: 'checkout',
        strategy: 'rolling',
        strategyOptions: { stepPercent: 50, bakeSeconds: 60 },
        approvalRequired: false,
      });
      expect(environments[0].services[1].strategyOptions).toEqual({ bakeSeconds: 60 });
      expect(environments[2].services[0]).toMatchObject({
        name: 'checkout',
        strategy: 'canary',
        strategyOptions: { steps: [5, 25, 50, 100], bakeSeconds: 600 },
        approvalRequired: true,
      });
    });

    it('reads the file --config names, and ENVCTL_CONFIG when there is no --config', () => {
      const config = sample();
      config.environments = [config.environments[1]];
      config.environments[0].services[0].deployment.approvalRequired = true;
      const file = write('one-environment.json', JSON.stringify(config));

      for (const run of [
        envctl(['environments', '--json', '--config', file]),
        envctl(['--config', file, 'environments', '--json']),
        envctl(['environments', '--json'], { ENVCTL_CONFIG: file }),
      ]) {
        expect(run.status).toBe(0);
        const environments = JSON.parse(run.stdout);
        expect(environments.map((e: { name: string }) => e.name)).toEqual(['staging']);
        expect(environments[0].services[0].approvalRequired).toBe(true);
      }
    });
  });

  describe('a user mistake', () => {
    it.each<[string, () => string[], string]>([
      [
        'a config with a bad field',
        () => {
          const config = sample();
          config.environments[2].services[1].deployment.canarySteps = [10, 50, 90];
          return ['environments', '--config', write('bad-steps.json', JSON.stringify(config))];
        },
        'error: {dir}/bad-steps.json: environment "production", service "catalog", field deployment.canarySteps: the last step must be 100',
      ],
      [
        'a config file that is not JSON',
        () => ['environments', '--config', write('not-json.json', '{ "environments": [')],
        'error: {dir}/not-json.json: not valid JSON (Unexpected end of JSON input)',
      ],
      [
        'a missing config file',
        () => ['environments', '--config', path.join(dir, 'missing.json')],
        'error: {dir}/missing.json: cannot read the config file: no such file',
      ],
      [
        'an unknown option',
        () => ['environments', '--jsn'],
        "error: unknown option '--jsn' (Did you mean --json?)",
      ],
      [
        'an unknown command',
        () => ['environmnts'],
        "error: unknown command 'environmnts' (Did you mean environments?)",
      ],
      [
        'an argument the command does not take',
        () => ['environments', 'staging'],
        "error: too many arguments for 'environments'. Expected 0 arguments but got 1.",
      ],
      [
        'an option without its value',
        () => ['environments', '--config'],
        "error: option '-c, --config <file>' argument missing",
      ],
      ['no command', () => [], 'error: no command given; envctl --help lists the commands'],
    ])('(%s) prints one line to stderr and exits 1', (_case, args, message) => {
      const run = envctl(args());

      expect(run.status).toBe(1);
      expect(run.stdout).toBe('');
      expect(lines(run.stderr)).toEqual([message.replace('{dir}', dir)]);
    });
  });
});
