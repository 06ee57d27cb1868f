import { closeSync, constants, openSync } from 'node:fs';
import type { CliIo } from './io.js';

/**
 * Whether rtmpush runs under a terminal: one of its streams is one, or it has a controlling terminal (its output
 * sent to a file from an interactive shell). Then SIGHUP means the terminal was closed.
 */
export function underTerminal(io: CliIo): boolean {
  if (io.stdout.isTTY || io.stderr.isTTY || process.stdin.isTTY) return true;
  try {
    closeSync(openSync('/dev/tty', constants.O_RDONLY | constants.O_NOCTTY));
    return true;
  } catch {
    return false;
  }
}
