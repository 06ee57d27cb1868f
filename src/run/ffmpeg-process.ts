import { existsSync } from 'node:fs';
import readline from 'node:readline';
import { execa, type ResultPromise } from 'execa';

export interface FfmpegHandlers {
  onProgressLine: (line: string) => void;
  onLogLine: (line: string) => void;
}

export interface FfmpegExit {
  exitCode: number | undefined;
  signal: string | undefined;
}

const SETPRIV = '/usr/bin/setpriv';

/**
 * One running ffmpeg. On Linux it is started under `setpriv --pdeathsig TERM` so it dies with rtmpush
 * even when rtmpush is killed with SIGKILL (a closed stdin does not stop ffmpeg).
 */
export class FfmpegProcess {
  readonly #child: ResultPromise;
  readonly #stdinControl: boolean;
  readonly exited: Promise<FfmpegExit>;
  #exit: FfmpegExit | undefined;

  constructor(ffmpeg: string, argv: string[], handlers: FfmpegHandlers, options: { stdinIsSource: boolean }) {
    const guarded = process.platform === 'linux' && existsSync(SETPRIV);
    const [file, args] = guarded ? [SETPRIV, ['--pdeathsig', 'TERM', '--', ffmpeg, ...argv]] : [ffmpeg, argv];
    this.#stdinControl = !options.stdinIsSource;
    this.#child = execa(file, args, {
      stdin: options.stdinIsSource ? 'inherit' : 'pipe',
      stdout: 'pipe',
      stderr: 'pipe',
      reject: false,
      buffer: false,
      cleanup: true,
      windowsHide: true,
    });
    readline.createInterface({ input: this.#child.stdout! }).on('line', handlers.onProgressLine);
    readline.createInterface({ input: this.#child.stderr! }).on('line', handlers.onLogLine);
    // A stop request may race ffmpeg's exit; a broken stdin pipe is expected then.
    this.#child.stdin?.on('error', () => {});
    this.exited = this.#child.then(
      (r) => (this.#exit = { exitCode: r.exitCode, signal: r.signal }),
      (error: { exitCode?: number; signal?: string }) => (this.#exit = { exitCode: error.exitCode, signal: error.signal }),
    );
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  get running(): boolean {
    return this.#exit === undefined;
  }

  /** Graceful stop: `q` (lets ffmpeg close every leg), then SIGTERM, then SIGKILL. */
  async stop(graceMs = 4000): Promise<FfmpegExit> {
    if (!this.running) return this.exited;
    if (this.#stdinControl && this.#child.stdin?.writable) this.#child.stdin.write('q');
    else this.#child.kill('SIGINT');
    if (await this.#waitExit(graceMs)) return this.exited;
    this.#child.kill('SIGTERM');
    if (await this.#waitExit(2000)) return this.exited;
    this.#child.kill('SIGKILL');
    return this.exited;
  }

  /** At once, for an encoder that no longer responds (a stopped process ignores everything but SIGKILL). */
  kill(): void {
    this.#child.kill('SIGKILL');
  }

  async #waitExit(ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
    const done = await Promise.race([this.exited.then(() => true), timeout]);
    clearTimeout(timer);
    return done;
  }
}
