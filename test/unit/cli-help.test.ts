/** Every envctl command explains itself: `--help` exits 0 and shows its options, `--json` and an example. */
import { run } from '../../cli/main';

async function envctl(args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await run(args, { out: (t) => void (stdout += t), err: (t) => void (stderr += t) });
  return { code, stdout, stderr };
}

const COMMANDS = [
  'deploy',
  'status',
  'history',
  'rollback',
  'approve',
  'reject',
  'promote',
  'environments',
  'simulate',
];

it('lists every command', async () => {
  const help = await envctl(['--help']);
  expect(help.code).toBe(0);
  for (const command of COMMANDS) expect(help.stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
});

it.each(COMMANDS)('%s --help shows --json and an example, and exits 0', async (command) => {
  const help = await envctl([command, '--help']);

  expect(help.code).toBe(0);
  expect(help.stderr).toBe('');
  expect(help.stdout).toMatch(new RegExp(`^Usage: envctl ${command} `));
  expect(help.stdout).toContain('--json');
  expect(help.stdout).toMatch(new RegExp(`\nExamples:\n  envctl ${command}`));
});
