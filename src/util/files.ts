import { randomBytes } from 'node:crypto';
import {
  closeSync,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  readSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
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

/** A folder (not a link to one) this user owns and no other user may write into. */
export function ownFolder(dir: string, uid = process.getuid?.() ?? 0): boolean {
  try {
    const st = lstatSync(dir);
    return st.isDirectory() && st.uid === uid && (st.mode & 0o022) === 0;
  } catch {
    return false;
  }
}

/**
 * Writes a cache file whole, private to its user (folder 0700 when made here, file 0600), through a new file of a
 * name nobody can guess and a rename: another rtmpush reading it (two instances of the service, a `plan` while a
 * `start` measures) never sees half of it. A folder another user owns or may write into is refused (a shared
 * XDG_CACHE_HOME where someone made `rtmpush` first could swap what is kept); nothing is left behind on a failure.
 */
export function writePrivateFile(file: string, text: string): void {
  const dir = path.dirname(file);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (!ownFolder(dir)) throw new Error(`${dir} is not a folder of this user's that only this user can write to`);
  const tmp = `${file}.${randomBytes(8).toString('hex')}.tmp`;
  try {
    writeFileSync(tmp, text, { mode: 0o600, flag: 'wx' });
    renameSync(tmp, file);
  } catch (error) {
    rmSync(tmp, { force: true });
    throw error;
  }
}
