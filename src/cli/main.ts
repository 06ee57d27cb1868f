import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Command, CommanderError } from 'commander';
import { RunError, UsageError } from '../errors.js';
import { locateFfmpeg } from '../ffmpeg/locate.js';
import { toolVersion } from '../probe/ffprobe.js';
import { redact } from '../secret.js';
import { packageRoot } from '../util/paths.js';
import { processIo, type CliIo } from './io.js';
import { type DoctorFlags, doctorCommand } from './doctor.js';
import { uplinkCommand } from './uplink.js';
import { destinationsCommand, presetsCommand } from './list.js';
import { addStreamOptions, type RawStreamFlags } from './options.js';
import { planCommand } from './plan.js';
import { startCommand } from './start.js';
import { addControlCommands } from './control-commands.js';

const EXAMPLES_START = `
Examples:
  $ rtmpush start --to local --duration 20s        try it: test pattern to the embedded server
  $ RTMPUSH_YOUTUBE_KEY=... RTMPUSH_TWITCH_KEY=... rtmpush start --to youtube,twitch --source camera --preset 1080p30
  $ rtmpush start --to studio=rtmp://10.0.0.5/live/show --source talk.mp4 --loop --record archive.mkv
  $ rtmpush start --to local --json | jq .

Exit codes: 0 every destination live to the end, 1 the stream could not run, 2 bad input (nothing started),
3 ran but a destination ended rejected or failed.`;

const EXAMPLES_PLAN = `
Examples:
  $ rtmpush plan --to youtube,twitch --preset 1080p30
  $ rtmpush plan --to local --json | jq -r '.ffmpeg | join(" ")'`;

function version(): string {
  return (JSON.parse(readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}

async function printVersion(io: CliIo): Promise<void> {
  io.stdout.write(`rtmpush ${version()}\n`);
  try {
    const ffmpeg = locateFfmpeg({ env: io.env, platform: process.platform });
    io.stdout.write(`ffmpeg ${ffmpeg}: ${await toolVersion(ffmpeg)}\n`);
  } catch (error) {
    io.stdout.write(`ffmpeg: ${error instanceof Error ? error.message : String(error)}\n`);
  }
}

/** Runs the CLI and returns the exit code. The only place that decides exit codes. */
export async function main(argv: string[], io: CliIo = processIo()): Promise<number> {
  let exitCode = 0;
  // A terminal that was closed (EIO) or a reader that went away (`| head`: EPIPE) loses what is printed from then
  // on, nothing more: a stream still stops cleanly, a command still ends with its exit code.
  for (const out of [io.stdout, io.stderr]) if (out.listenerCount('error') === 0) out.on('error', () => {});
  const program = new Command('rtmpush')
    .description('Encode once with ffmpeg and push live to several RTMP/RTMPS destinations at once.')
    .option('-V, --version', 'print the version and which ffmpeg is used')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: () => {} })
    .showSuggestionAfterError(true)
    .action(async (opts: { version?: boolean }) => {
      if (opts.version) return printVersion(io);
      program.outputHelp();
    });

  addStreamOptions(
    program
      .command('start')
      .description('stream until stopped (Ctrl-C, SIGTERM, rtmpush stop) or --duration')
      .addHelpText('after', EXAMPLES_START),
  )
    .option('--name <name>', 'this stream’s name for rtmpush status/add/remove/… (default: default)')
    .option('--metrics <host:port>', 'serve Prometheus metrics at http://HOST:PORT/metrics (read-only)')
    .exitOverride()
    .action(async (opts: RawStreamFlags) => {
      exitCode = await startCommand(opts, io);
    });
  addStreamOptions(
    program
      .command('plan')
      .description(
        'print what start would do: settings, bitrate, destinations and the exact ffmpeg command (keys as ****)',
      )
      .addHelpText('after', EXAMPLES_PLAN),
  )
    .exitOverride()
    .action(async (opts: RawStreamFlags) => {
      exitCode = await planCommand(opts, io);
    });
  program
    .command('doctor')
    .description(
      'check each destination step by step (key, DNS, TCP, TLS, RTMP connect, round trip) without going on air, ' +
        'which H.264 encoders work here, and whether this machine can encode the stream in real time',
    )
    .option('-t, --to <list>', 'destinations, as for start', (v: string, prev: string[]) => [...prev, v], [])
    .option('-p, --preset <name>', 'the preset whose encoding speed to measure (default as for start)')
    .option('--no-speed', 'do not measure the encoding speed (a few seconds of full CPU)')
    .option('-c, --config <file>', 'config file')
    .option('--insecure-tls', 'do not check rtmps:// certificates')
    .option('--json', 'one JSON object per step')
    .addHelpText(
      'after',
      '\nExit codes: 0 every destination can be reached, 3 some cannot, 2 bad input.\n\n' +
        'Examples:\n  $ rtmpush doctor --to youtube,twitch\n  $ rtmpush doctor          only the encoders',
    )
    .exitOverride()
    .action(async (opts: DoctorFlags) => {
      exitCode = await doctorCommand(opts, io);
    });
  program
    .command('uplink')
    .description('measure sustained upload throughput to an ingest, from what it acknowledges (nothing goes on air)')
    .option('-t, --to <dest>', 'twitch or restream (their test modes)')
    .option('--target <url>', 'a test ingest: rtmp(s)://host/app/key')
    .option('--seconds <n>', 'how long to measure (default 10)')
    .option('--json', 'print one JSON object')
    .addHelpText(
      'after',
      '\nThe result is kept for a day and used by start to cap the bitrate ' +
        '(70 % of the uplink, shared by every destination).\n\n' +
        'Example:\n  $ RTMPUSH_TWITCH_KEY=... rtmpush uplink --to twitch',
    )
    .exitOverride()
    .action(async (opts: { to?: string; target?: string; seconds?: string; json?: boolean }) => {
      exitCode = await uplinkCommand(opts, io);
    });
  program
    .command('presets')
    .description('list the encoding presets (built-in and from <config dir>/presets/)')
    .addHelpText('after', "\nExamples:\n  $ rtmpush presets\n  $ rtmpush presets --json | jq -r '.presets[].name'")
    .option('--json', 'print JSON')
    .option('-c, --config <file>', 'config file')
    .exitOverride()
    .action((opts: { json?: boolean; config?: string }) => {
      exitCode = presetsCommand(opts, io);
    });
  program
    .command('destinations')
    .description('list the built-in platforms and the config file destinations, and whether each has a key set')
    .addHelpText('after', '\nExamples:\n  $ rtmpush destinations\n  $ rtmpush destinations --config ./show.json --json')
    .option('--json', 'print JSON')
    .option('-c, --config <file>', 'config file')
    .exitOverride()
    .action((opts: { json?: boolean; config?: string }) => {
      exitCode = destinationsCommand(opts, io);
    });

  addControlCommands(program, io, (code) => {
    exitCode = code;
  });

  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (error) {
    return reportError(error, io);
  }
}

function reportError(error: unknown, io: CliIo): number {
  if (error instanceof CommanderError) {
    if (
      error.code === 'commander.helpDisplayed' ||
      error.code === 'commander.help' ||
      error.code === 'commander.version'
    )
      return 0;
    io.stderr.write(`rtmpush: ${redact(error.message.replace(/^error: /, ''))} (see rtmpush --help)\n`);
    return 2;
  }
  if (error instanceof UsageError) {
    io.stderr.write(`rtmpush: ${redact(error.message)}\n`);
    return 2;
  }
  const message = error instanceof Error ? error.message : String(error);
  const code = error instanceof RunError ? error.code : 'internal';
  io.stderr.write(`rtmpush: ${code === 'internal' ? 'internal error: ' : ''}${redact(message)}\n`);
  return 1;
}
