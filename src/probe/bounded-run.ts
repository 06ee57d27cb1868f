import { existsSync } from 'node:fs';
import { executable } from '../ffmpeg/locate.js';
import { execa } from 'execa';
import { childEnv } from '../secret.js';

const SETPRIV = '/usr/bin/setpriv';
const OWN_GROUP = process.platform !== 'win32';

export interface Bounded {
  exitCode: number | undefined;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  /** Why it could not be started at all (ENOENT …). */
  spawnError?: string;
  ms: number;
}

/**
 * Runs ffmpeg (or a wrapper script) for a bounded time, in a process group of its own that is killed whole on
 * the timeout, when it ends (a wrapper's leftover children) and if rtmpush exits first; on Linux under
 * `setpriv --pdeathsig` as well, so it dies with rtmpush even on SIGKILL (as src/run/ffmpeg-process.ts does).
 */
export async function runBounded(ffmpeg: string, args: string[], timeoutMs: number): Promise<Bounded> {
  if (!executable(ffmpeg))
    return {
      exitCode: undefined,
      stdout: '',
      stderr: '',
      timedOut: false,
      spawnError: 'not an executable file',
      ms: 0,
    };
  const guarded = process.platform === 'linux' && existsSync(SETPRIV);
  const [file, argv] = guarded ? [SETPRIV, ['--pdeathsig', 'KILL', '--', ffmpeg, ...args]] : [ffmpeg, args];
  const started = performance.now();
  const child = execa(file, argv, {
    env: childEnv(),
    extendEnv: false,
    reject: false,
    stdin: 'ignore',
    detached: OWN_GROUP,
    cleanup: !OWN_GROUP,
    windowsHide: true,
    maxBuffer: 4_000_000,
  });
  const killAll = (): void => {
    try {
      if (OWN_GROUP && child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      else child.kill('SIGKILL');
    } catch {
      // already gone
    }
  };
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    killAll();
  }, timeoutMs);
  process.once('exit', killAll);
  child.once('exit', killAll);
  const r = await child;
  clearTimeout(timer);
  process.off('exit', killAll);
  const spawnError = r.exitCode === undefined && !r.signal && !timedOut ? errorCode(r) : undefined;
  return {
    exitCode: r.exitCode,
    stdout: String(r.stdout ?? ''),
    stderr: String(r.stderr ?? ''),
    timedOut,
    ...(spawnError ? { spawnError } : {}),
    ms: Math.round(performance.now() - started),
  };
}

const errorCode = (r: { cause?: unknown; shortMessage?: string }): string =>
  (r.cause as { code?: string } | undefined)?.code ?? r.shortMessage ?? 'could not be started';
