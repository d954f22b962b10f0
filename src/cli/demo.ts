import { Command, Option } from 'commander';
import { integerArg, secondsArg } from './arguments.js';
import type { DemoOptions } from './demo-run.js';

/**
 * `streamvisor demo`: a producer of bot-like events and two supervised consumers, on the in-memory
 * storage or on Redis, with live state changes and a progress line every second.
 *
 * @example
 * program.addCommand(demoCommand())
 */
export function demoCommand(): Command {
  return new Command('demo')
    .description(
      'run a producer and two supervised consumers (in memory, or on Redis with --redis) and watch them live',
    )
    .option('--redis <url>', 'run on this Redis instead of the in-memory storage')
    .option('--stream <name>', 'the stream to use', 'streamvisor:demo')
    .option('--group <name>', 'the consumer group to use', 'demo')
    .addOption(
      new Option('--rate <msgPerSecond>', 'messages produced per second')
        .argParser(integerArg(1))
        .default(50),
    )
    .addOption(
      new Option('--heal-every <seconds>', 'destroy the consumer group this often (0 = never)')
        .argParser(secondsArg)
        .default(15),
    )
    .addOption(
      new Option('--duration <seconds>', 'stop after this long (default: until Ctrl-C)').argParser(
        secondsArg,
      ),
    )
    .option('--log-level <level>', 'runtime log level (pino, to stderr)', 'fatal')
    .addOption(
      new Option('--dashboard <port>', 'serve the live dashboard on this port (0 = a free one)')
        .argParser(integerArg(0))
        .default(0),
    )
    .option('--no-dashboard', 'do not start the dashboard')
    .addHelpText(
      'after',
      '\nExamples:\n  npm run demo\n  streamvisor demo --redis redis://127.0.0.1:6379 --heal-every 10\n  streamvisor demo --duration 30 --rate 200',
    )
    .action(async (options: DemoOptions) => {
      // Loaded on use: the runtime, the dashboard and their dependencies are not needed for `--help`.
      const { runDemo } = await import('./demo-run.js');
      await runDemo(options);
    });
}
