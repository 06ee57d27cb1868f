import { lstatSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from '../errors.js';

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** `--name`: one stream's name on this machine (its socket's file name). */
export function checkName(name: string): string {
  if (!NAME_RE.test(name))
    throw new UsageError(`--name ${JSON.stringify(name)}: use letters, digits, '.', '_' or '-' (at most 64)`);
  return name;
}

/**
 * The folder for control sockets: $RTMPUSH_RUNTIME_DIR, else $XDG_RUNTIME_DIR/rtmpush, else /tmp/rtmpush-UID.
 * Nothing here creates it (see ensureRuntimeDir).
 */
export function runtimeDir(env: Record<string, string | undefined>, uid = process.getuid?.() ?? 0): string {
  if (env.RTMPUSH_RUNTIME_DIR) return path.resolve(env.RTMPUSH_RUNTIME_DIR);
  if (env.XDG_RUNTIME_DIR) return path.join(path.resolve(env.XDG_RUNTIME_DIR), 'rtmpush');
  return `/tmp/rtmpush-${uid}`;
}

export const socketPath = (dir: string, name: string): string => path.join(dir, `${name}.sock`);

/**
 * Creates the folder 0700 if missing, and refuses one this user does not own or that others may enter: in a shared
 * /tmp another user could have made it first, to read or replace the socket.
 */
export function ensureRuntimeDir(dir: string, uid = process.getuid?.() ?? 0): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw new UsageError(`cannot create ${dir} for the control socket: ${(error as Error).message}`);
  }
  checkOwnFolder(dir, uid);
}

const FIX = 'set RTMPUSH_RUNTIME_DIR to a folder of your own';

/** A folder (not a link to one) this user owns and nobody else may enter; else a UsageError saying so. */
export function checkOwnFolder(dir: string, uid = process.getuid?.() ?? 0): void {
  const st = lstatSync(dir);
  if (!st.isDirectory()) throw new UsageError(`${dir} is not a folder; ${FIX}`);
  if (st.uid !== uid) throw new UsageError(`${dir} belongs to another user (uid ${st.uid}); ${FIX}`);
  if ((st.mode & 0o077) !== 0)
    throw new UsageError(`${dir} can be entered by other users (mode ${(st.mode & 0o777).toString(8)}); ${FIX}`);
}

/**
 * Before a client talks to a socket: the folder is this user's own and the socket is this user's, so no other user
 * can have put a socket there to hear what we send (a key in `add`) or to answer with a made-up status. Root may
 * talk to any user's run. Undefined when there is no socket (nothing runs under that name).
 */
export function trustedSocket(dir: string, name: string, uid = process.getuid?.() ?? 0): string | undefined {
  const path = socketPath(dir, name);
  let st: ReturnType<typeof lstatSync>;
  try {
    st = lstatSync(path);
  } catch {
    return undefined;
  }
  if (uid !== 0) checkOwnFolder(dir, uid);
  if (!st.isSocket()) throw new UsageError(`${path} is not a socket; ${FIX}`);
  if (uid !== 0 && st.uid !== uid) throw new UsageError(`${path} belongs to another user (uid ${st.uid}); ${FIX}`);
  return path;
}
