import { closeSync, createWriteStream, openSync, statSync, unlinkSync, type WriteStream } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { UsageError } from '../errors.js';

export interface RecorderEvents {
  /** Writing failed (a full disk, an I/O error): what was written so far is kept; the stream goes on. */
  onFailed: (file: string, reason: string) => void;
  /** An encoder restart: the recording goes on in a new file, so nothing written before is lost. */
  onNextFile: (file: string) => void;
}

/**
 * `--record FILE`: the tee's Matroska leg comes to rtmpush on a pipe and rtmpush writes the file, so a write that
 * fails is known at once, with its cause. Each encoder writes its own file: the first is FILE, and after a restart
 * FILE-2, FILE-3, … (a restarted encoder never truncates what the last one recorded). Files are created, never
 * overwritten.
 */
export class Recorder {
  readonly files: string[] = [];
  failure: string | undefined;
  #fd: number | undefined;
  #out: WriteStream | undefined;
  #closing: Promise<void> = Promise.resolve();

  /** Creates FILE now, before anything starts: a file that cannot be created is bad input (exit 2). */
  constructor(
    private readonly file: string,
    private readonly events: RecorderEvents,
  ) {
    try {
      this.#fd = openSync(file, 'wx', 0o644);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const why =
        code === 'EEXIST'
          ? 'the file exists: choose a new name or delete it'
          : `it cannot be created (${code ?? String(error)})`;
      throw new UsageError(`--record ${file}: ${why}`);
    }
    this.files.push(file);
  }

  /** The leg of a (new) encoder. The first goes to FILE; each later one to the next numbered file. */
  attach(leg: Readable): void {
    const fd = this.#fd ?? this.#nextFile();
    this.#fd = undefined;
    if (fd === undefined) {
      leg.resume(); // nowhere to write: let the encoder's leg flow
      return;
    }
    const out = createWriteStream('', { fd, autoClose: true });
    this.#out = out;
    leg.pipe(out);
    out.once('error', (error: NodeJS.ErrnoException) => {
      leg.unpipe(out);
      leg.resume();
      this.#fail(`${describeWriteError(error)}: what was recorded up to now is kept in ${this.files.at(-1)}`);
    });
  }

  /** Waits until what the encoder wrote is on disk (or its write failed), and removes a first file left empty. */
  async close(): Promise<void> {
    const out = this.#out;
    if (out && !out.destroyed && !out.writableFinished) {
      this.#closing = new Promise<void>((resolve) => {
        out.once('close', resolve);
        out.once('error', () => resolve());
        if (!out.writableEnded) out.end();
      });
    }
    await this.#closing;
    if (this.#fd !== undefined) {
      closeSync(this.#fd);
      this.#fd = undefined;
      // Nothing started: leave no empty file behind to block the next run.
      if (this.files.length === 1 && statSync(this.file).size === 0) {
        unlinkSync(this.file);
        this.files.pop();
      }
    }
  }

  #nextFile(): number | undefined {
    const { dir, name, ext } = path.parse(this.file);
    for (let n = this.files.length + 1; n < this.files.length + 1000; n++) {
      const next = path.join(dir, `${name}-${n}${ext}`);
      try {
        const fd = openSync(next, 'wx', 0o644);
        this.files.push(next);
        this.events.onNextFile(next);
        return fd;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EEXIST') continue;
        this.#fail(`${next} cannot be created: ${describeWriteError(error as NodeJS.ErrnoException)}`);
        return undefined;
      }
    }
    return undefined;
  }

  #fail(reason: string): void {
    this.failure = reason;
    this.events.onFailed(this.files.at(-1) ?? this.file, reason);
  }
}

function describeWriteError(error: NodeJS.ErrnoException): string {
  switch (error.code) {
    case 'ENOSPC':
      return 'the disk is full (ENOSPC)';
    case 'EDQUOT':
      return 'the disk quota is used up (EDQUOT)';
    case 'EIO':
      return 'the disk reported an I/O error (EIO)';
    default:
      return error.code ? `${error.code}: ${error.message}` : error.message;
  }
}
