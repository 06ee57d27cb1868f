import type { Command } from 'commander';
import { type ControlFlags, controlCommand, statusCommand } from './control.js';
import type { CliIo } from './io.js';

const NAME = ['--name <name>', 'the running stream’s name (as given to start --name; default: default)'] as const;

/** The client commands: each talks to a running `rtmpush start` through its control socket. */
export function addControlCommands(program: Command, io: CliIo, done: (code: number) => void): void {
  program
    .command('status')
    .description('what a running stream is doing: the encoder and every destination (exit 3 if one is not live)')
    .option(...NAME)
    .option('--json', 'print the status as JSON')
    .addHelpText('after', '\nExamples:\n  $ rtmpush status\n  $ rtmpush status --name church --json | jq .')
    .exitOverride()
    .action(async (opts: ControlFlags) => done(await statusCommand(opts, io)));
  const one = (name: string, arg: string, description: string, example: string): void => {
    program
      .command(`${name} ${arg}`)
      .description(description)
      .option(...NAME)
      .option('--json', 'print the answer as JSON')
      .addHelpText('after', `\nExample:\n  $ ${example}`)
      .exitOverride()
      .action(async (value: string | undefined, opts: ControlFlags) =>
        done(await controlCommand(name as 'add', value, opts, io)),
      );
  };
  one('add', '<to>', 'add a destination to the running stream (what --to takes for one)', 'rtmpush add twitch');
  one('remove', '<label>', 'unpublish a destination cleanly and drop it', 'rtmpush remove twitch');
  one('pause', '<label>', 'unpublish a destination and hold it until resumed', 'rtmpush pause youtube');
  one('resume', '<label>', 'publish a paused destination again', 'rtmpush resume youtube');
  one('retry', '[label]', 'destinations waiting to reconnect (or this one) try now', 'rtmpush retry');
  one(
    'bitrate',
    '<rate>',
    'hold the video bitrate at most at RATE (e.g. 1500k), or give it back to the uplink (auto)',
    'rtmpush bitrate 1500k --name church',
  );
  program
    .command('reload')
    .description("read the running stream's config file again and apply its destinations (as SIGHUP)")
    .option(...NAME)
    .option('--json', 'print what changed as JSON')
    .addHelpText('after', '\nExample:\n  $ rtmpush reload --name church')
    .exitOverride()
    .action(async (opts: ControlFlags) => done(await controlCommand('reload', undefined, opts, io)));
  program
    .command('stop')
    .description('stop the running stream cleanly (as SIGTERM)')
    .option(...NAME)
    .option('--json', 'print the answer as JSON')
    .exitOverride()
    .action(async (opts: ControlFlags) => done(await controlCommand('stop', undefined, opts, io)));
}
