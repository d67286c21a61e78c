/**
 * envctl, the operator CLI. Each command is one file under `cli/commands/` that returns a commander
 * `Command`; this file declares the global options, adds the commands and turns errors into exit codes.
 */
import { Command, CommanderError, Option } from 'commander';
import { approveCommand, rejectCommand } from './commands/approve';
import { deployCommand } from './commands/deploy';
import { environmentsCommand } from './commands/environments';
import { historyCommand } from './commands/history';
import { promoteCommand } from './commands/promote';
import { rollbackCommand } from './commands/rollback';
import { simulateCommand } from './commands/simulate';
import { statusCommand } from './commands/status';
import { isAwsError, isUserError, OutcomeError, processIo, type CliIo } from './context';
import { defaultServices, type CommandServices } from './options';

/** The commands, in the order `envctl --help` lists them. */
const COMMANDS: readonly ((io: CliIo, services: CommandServices) => Command)[] = [
  deployCommand,
  statusCommand,
  historyCommand,
  rollbackCommand,
  approveCommand,
  rejectCommand,
  promoteCommand,
  environmentsCommand,
  (io) => simulateCommand(io),
];

export function createProgram(io: CliIo = processIo, services: CommandServices = defaultServices): Command {
  const program = new Command('envctl')
    .description('Release ECS services with blue-green, canary or rolling deployments, and roll them back.')
    .addOption(
      new Option(
        '-c, --config <file>',
        'the environments config file (default: config/environments.json)',
      ).env('ENVCTL_CONFIG'),
    )
    .configureHelp({ showGlobalOptions: true })
    .configureOutput({
      writeOut: io.out,
      writeErr: io.err,
      // One line per error: commander puts its "(Did you mean …?)" suggestion on a line of its own.
      outputError: (text, write) => write(`${text.trimEnd().replace(/\n+/g, ' ')}\n`),
    })
    .showSuggestionAfterError()
    .exitOverride();
  for (const command of COMMANDS) program.addCommand(command(io, services).copyInheritedSettings(program));
  return program;
}

/**
 * Runs the CLI with the user's arguments and returns the exit code: 0 on success; 1 for a user mistake or what
 * AWS refused, reported as one line on standard error; 2 for a deployment, rollback or promotion that did not
 * end as it should; 70 for a fault of the CLI itself, whose stack trace ENVCTL_DEBUG=1 shows.
 */
export async function run(
  args: readonly string[],
  io: CliIo = processIo,
  services: CommandServices = defaultServices,
): Promise<number> {
  const program = createProgram(io, services);
  if (args.length === 0) {
    io.err('error: no command given; envctl --help lists the commands\n');
    return 1;
  }
  try {
    await program.parseAsync(args, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode; // commander has already printed its message
    if (err instanceof OutcomeError) {
      io.err(`error: ${err.message}\n`);
      return err.exitCode;
    }
    if (isUserError(err)) {
      io.err(`error: ${err.message}\n`);
      return 1;
    }
    if (isAwsError(err)) {
      io.err(`error: AWS: ${err.name}: ${err.message.split('\n')[0]}\n`);
      return 1;
    }
    io.err(`error: ${err instanceof Error ? err.message : String(err)}\n`);
    if (process.env.ENVCTL_DEBUG) io.err(`${err instanceof Error ? err.stack : ''}\n`);
    else io.err('This is a fault of envctl, not of the input; ENVCTL_DEBUG=1 shows where it happened.\n');
    return 70;
  }
}

if (require.main === module) {
  void run(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
