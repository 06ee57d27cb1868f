import { closeSync, constants, openSync } from 'node:fs';
import { isatty } from 'node:tty';
import type { CliIo } from './io.js';

/**
 * Whether rtmpush runs under a terminal: one of its streams is one, or it has a controlling terminal (its output
 * sent to a file from an interactive shell). Then SIGHUP means the terminal was closed.
 */
export function underTerminal(io: CliIo): boolean {
  // isatty(0), not process.stdin: that would make a handle of fd 0, which ffmpeg reads with --source -
  if (io.stdout.isTTY || io.stderr.isTTY || isatty(0)) return true;
  try {
    closeSync(openSync('/dev/tty', constants.O_RDONLY | constants.O_NOCTTY));
    return true;
  } catch {
    return false;
  }
}
