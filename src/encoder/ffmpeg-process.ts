import { existsSync } from 'node:fs';
import readline from 'node:readline';
import type { Duplex } from 'node:stream';
import { execa, type ResultPromise } from 'execa';
import { childEnv } from '../secret.js';

export interface FfmpegHandlers {
  onProgressLine: (line: string) => void;
  onLogLine: (line: string) => void;
}

export interface FfmpegExit {
  exitCode: number | undefined;
  signal: string | undefined;
}

export interface FfmpegSpawnOptions {
  stdinIsSource: boolean;
  /**
   * Pipes handed to ffmpeg as fds 3, 4, …: its tee legs write there (`pipe:3`, …), a private source list is read
   * there.
   */
  pipes: number;
}

const SETPRIV = '/usr/bin/setpriv';
/** In a process group of its own, so a wrapper script and the ffmpeg it starts are stopped together. */
const OWN_GROUP = process.platform !== 'win32';

/**
 * One running ffmpeg. On Linux it is started under `setpriv --pdeathsig TERM` so it dies with rtmpush
 * even when rtmpush is killed with SIGKILL (a closed stdin does not stop ffmpeg). Its environment holds no keys.
 */
export class FfmpegProcess {
  readonly #child: ResultPromise;
  readonly #stdinControl: boolean;
  readonly exited: Promise<FfmpegExit>;
  /** rtmpush's ends of those pipes, fd 3 first. */
  readonly pipes: Duplex[];
  #exit: FfmpegExit | undefined;
  readonly #killOnExit = (): void => this.#signal('SIGKILL');

  constructor(ffmpeg: string, argv: string[], handlers: FfmpegHandlers, options: FfmpegSpawnOptions) {
    const guarded = process.platform === 'linux' && existsSync(SETPRIV);
    const [file, args] = guarded ? [SETPRIV, ['--pdeathsig', 'TERM', '--', ffmpeg, ...argv]] : [ffmpeg, argv];
    this.#stdinControl = !options.stdinIsSource;
    const pipes = Array.from({ length: options.pipes }, () => 'pipe' as const);
    this.#child = execa(file, args, {
      stdio: [options.stdinIsSource ? 'inherit' : 'pipe', 'pipe', 'pipe', ...pipes],
      env: childEnv(),
      extendEnv: false,
      reject: false,
      buffer: false,
      cleanup: !OWN_GROUP,
      detached: OWN_GROUP,
      windowsHide: true,
    });
    this.pipes = this.#child.stdio.slice(3) as Duplex[];
    readline.createInterface({ input: this.#child.stdout! }).on('line', handlers.onProgressLine);
    readline.createInterface({ input: this.#child.stderr! }).on('line', handlers.onLogLine);
    // A stop request may race ffmpeg's exit; a broken stdin pipe is expected then.
    this.#child.stdin?.on('error', () => {});
    // Whatever way rtmpush ends, its encoder's group ends with it.
    process.once('exit', this.#killOnExit);
    this.exited = this.#child.then(
      (r) => (this.#exit = { exitCode: r.exitCode, signal: r.signal }),
      (error: { exitCode?: number; signal?: string }) =>
        (this.#exit = { exitCode: error.exitCode, signal: error.signal }),
    );
    // The encoder lives as long as the process rtmpush started: a wrapper that did not exec may leave ffmpeg
    // behind in the group, holding the pipes open (and rtmpush waiting on them).
    this.#child.once('exit', () => {
      process.off('exit', this.#killOnExit);
      this.#signal('SIGKILL');
    });
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  get running(): boolean {
    return this.#exit === undefined;
  }

  /** Graceful stop: `q` (lets ffmpeg close every leg), then SIGTERM, then SIGKILL, each to the whole group. */
  async stop(graceMs = 4000): Promise<FfmpegExit> {
    if (!this.running) return this.exited;
    if (this.#stdinControl && this.#child.stdin?.writable) this.#child.stdin.write('q');
    else this.#signal('SIGINT');
    if (await this.#waitExit(graceMs)) return this.exited;
    this.#signal('SIGTERM');
    if (await this.#waitExit(2000)) return this.exited;
    this.#signal('SIGKILL');
    return this.exited;
  }

  /** At once, for an encoder that no longer responds (a stopped process ignores everything but SIGKILL). */
  kill(): void {
    this.#signal('SIGKILL');
  }

  #signal(signal: NodeJS.Signals): void {
    const pid = this.#child.pid;
    if (pid === undefined) return;
    try {
      if (OWN_GROUP) process.kill(-pid, signal);
      else this.#child.kill(signal);
    } catch {
      // already gone
    }
  }

  async #waitExit(ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
    const done = await Promise.race([this.exited.then(() => true), timeout]);
    clearTimeout(timer);
    return done;
  }
}
