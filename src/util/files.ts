import { closeSync, fstatSync, mkdirSync, openSync, readSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from '../errors.js';

/** Config files, presets and CA files are small: past this, it is the wrong file. */
export const MAX_SMALL_FILE = 1024 * 1024;
const PIECE = 64 * 1024;

/**
 * Reads a small text file given by the user: a regular file of at most 1 MB, or one line and exit 2 at once. Reads
 * at most one byte past the bound, whatever the file claims to hold (/dev/zero, a fifo, a /proc file that says 0).
 */
export function readSmallFile(file: string, what: string): string {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(`${what}: ${code === 'ENOENT' ? 'no such file' : `cannot be read (${code})`}`, {
      cause: error,
    });
  }
  try {
    if (!fstatSync(fd).isFile()) throw new UsageError(`${what}: not a regular file: give a file`);
    // read in pieces of what is there: a 1 MB buffer zero-filled for every file (a reload reads the config and every
    // preset) was 10 MB of memory touched each time, which the allocator kept
    const pieces: Buffer[] = [];
    let length = 0;
    for (let n = 1; n > 0 && length <= MAX_SMALL_FILE; length += n) {
      const piece = Buffer.allocUnsafe(Math.min(PIECE, MAX_SMALL_FILE + 1 - length));
      n = readSync(fd, piece, 0, piece.length, null);
      if (n > 0) pieces.push(piece.subarray(0, n));
    }
    if (length > MAX_SMALL_FILE) throw new UsageError(`${what}: larger than 1 MB: is it the right file?`);
    return Buffer.concat(pieces, length).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes a cache file whole, private to its user (folder 0700, file 0600), through a rename: another rtmpush
 * reading it (two instances of the service, a `plan` while a `start` measures) never sees half of it.
 */
export function writePrivateFile(file: string, text: string): void {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode: 0o600 });
  renameSync(tmp, file);
}
