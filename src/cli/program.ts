import { Command, CommanderError } from 'commander';
import { demoCommand } from './demo.js';
import { dlqCommand } from './dlq.js';
import { escapeControls } from './output.js';
import { publishCommand } from './publish.js';
import { describeError, library } from './redis.js';
import { statusCommand } from './status.js';
import { tailCommand } from './tail.js';
import { UsageError } from './usage-error.js';

// Exit codes: 0 ok, 1 runtime or Redis failure, 2 bad arguments.
// Help and version exit 0; help shown because a subcommand is missing (`streamvisor dlq`) has exitCode 1.
const HELP_CODES = new Set(['commander.helpDisplayed', 'commander.help', 'commander.version']);

/** One line: commander adds "(Did you mean …?)" on a line of its own; Redis' words are escaped. */
function oneLine(text: string): string {
  return escapeControls(text.trim().replace(/\s*\n\s*/g, ' '));
}

/**
 * The `streamvisor` program with every command. Commander errors are thrown (exitOverride), not
 * exited on, so `run` chooses the exit code.
 *
 * @example
 * await createProgram().parseAsync(['node', 'streamvisor', 'status', '--redis', 'redis://127.0.0.1:6379'])
 */
export function createProgram(): Command {
  const program = new Command('streamvisor')
    .description('operate streamvisor consumers on Redis Streams: status, dead letters, tail, publish, demo')
    .version('0.1.0')
    .exitOverride()
    .showSuggestionAfterError(true)
    .configureOutput({
      outputError: (text, write) => write(`${oneLine(text)} (see --help)\n`),
    })
    .addHelpText(
      'after',
      '\nExit codes: 0 ok, 1 runtime or Redis failure, 2 bad arguments.\nRedis URL: --redis URL or the REDIS_URL environment variable (not for demo).',
    );
  program.addCommand(statusCommand());
  program.addCommand(dlqCommand());
  program.addCommand(tailCommand());
  program.addCommand(publishCommand());
  program.addCommand(demoCommand());
  inheritSettings(program, program);
  return program;
}

/** `addCommand` copies no settings: give every subcommand the root's exit and error handling. */
function inheritSettings(root: Command, command: Command): void {
  for (const sub of command.commands) {
    sub.copyInheritedSettings(root);
    inheritSettings(root, sub);
  }
}

/**
 * Run the CLI on `argv` (as `process.argv`) and resolve its exit code; prints errors on one line.
 *
 * @example
 * process.exitCode = await run(process.argv)
 */
export async function run(argv: readonly string[]): Promise<number> {
  try {
    await createProgram().parseAsync([...argv]);
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return HELP_CODES.has(error.code) && error.exitCode === 0 ? 0 : 2;
    if (error instanceof UsageError) {
      process.stderr.write(`error: ${oneLine(error.message)}\n`);
      return error.exitCode;
    }
    const { redactUrl } = await library();
    process.stderr.write(`error: ${oneLine(describeError(error, redactUrl))}\n`);
    return 1;
  }
}
