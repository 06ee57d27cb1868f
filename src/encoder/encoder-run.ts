import { type Duplex, PassThrough } from 'node:stream';
import { buildFfmpegArgv, hasInputPipe, readsStdin, type TeeLeg, sourceList } from '../ffmpeg/argv.js';
import { type Progress, ProgressParser } from '../ffmpeg/progress.js';
import type { Plan } from '../plan/plan.js';
import { redact } from '../secret.js';
import { FfmpegProcess } from './ffmpeg-process.js';
import type { RunExit, SourceRun } from './run.js';

export interface EncoderRunOptions {
  ffmpeg: string;
  /** Each line ffmpeg logs, keys redacted (`--verbose`); none if not given. */
  onLog?: (line: string) => void;
  onProgress: (p: Progress) => void;
}

/**
 * One ffmpeg encoding a plan into the tee's legs: started with a pipe per leg (and one for the source rtmpush
 * writes, if any), its progress read, its last error kept (keys redacted). Knows when it last made progress, for
 * the watchdog that owns it.
 */
export class EncoderRun implements SourceRun {
  readonly #process: FfmpegProcess;
  /** rtmpush's ends of the tee's legs, in the order of the targets. */
  readonly legs: Duplex[];
  /** The pipe rtmpush writes the source into (an ingest's FLV), if the plan has one besides a URL's list. */
  readonly input: Duplex | undefined;
  readonly exited: Promise<RunExit>;
  lastError: string | undefined;
  lastProgressAt = Date.now();

  constructor(plan: Plan, targets: TeeLeg[], opts: EncoderRunOptions) {
    const progress = new ProgressParser();
    let lastOut = -1;
    const list = sourceList(plan);
    const inputPipe = hasInputPipe(plan);
    this.#process = new FfmpegProcess(
      opts.ffmpeg,
      buildFfmpegArgv(plan, targets),
      {
        onProgressLine: (line) => {
          const p = progress.push(line);
          if (!p) return;
          if (p.outTimeMs > lastOut) {
            lastOut = p.outTimeMs;
            this.lastProgressAt = Date.now();
          }
          opts.onProgress(p);
        },
        onLogLine: (raw) => {
          const line = redact(raw);
          opts.onLog?.(line);
          if (/\[(error|fatal|panic)\]/.test(line)) this.lastError = line;
        },
      },
      { stdinIsSource: readsStdin(plan), pipes: targets.length + (inputPipe ? 1 : 0) },
    );
    // the recording's leg is read only once this encoder is the stream (a staged one waits): held behind a stream
    // that pushes back, so nothing drains it meanwhile (execa resumes a pipe nobody reads) and its header is kept
    this.legs = this.#process.pipes
      .slice(0, targets.length)
      .map((pipe, i) => (targets[i]!.label === 'record' ? pipe.pipe(new PassThrough()) : pipe));
    const input = inputPipe ? this.#process.pipes[targets.length] : undefined;
    // A private source URL reaches ffmpeg on the pipe after the legs': nothing on disk, nothing in `ps`.
    if (list) input!.end(list);
    this.input = list ? undefined : input;
    this.exited = this.#process.exited;
  }

  get pid(): number | undefined {
    return this.#process.pid;
  }

  get running(): boolean {
    return this.#process.running;
  }

  /** Graceful: ffmpeg closes every leg. */
  stop(): Promise<RunExit> {
    return this.#process.stop();
  }

  /** At once (a stalled encoder). */
  kill(): void {
    this.#process.kill();
  }
}
