import type { Duplex, Readable } from 'node:stream';
import type { FfmpegExit } from './ffmpeg-process.js';

/** How a run ended: ffmpeg's exit code or the signal that stopped it. */
export type RunExit = FfmpegExit;

/**
 * What feeds a stream: an encoder (one ffmpeg), or under `--copy` a publisher's stream as it is. Either way FLV
 * legs the feed reads (one per encode, then the recording's), a way to stop it, and when it last made progress.
 */
export interface SourceRun {
  /** One leg per encode, in the order of the plan's encodes (then the recording's, if any). */
  readonly legs: Readable[];
  /** The pipe an ingest's FLV is written into, if the run reads one. */
  readonly input: Duplex | undefined;
  readonly exited: Promise<RunExit>;
  /** Its last error line (keys redacted), if any. */
  readonly lastError: string | undefined;
  /** When it last made progress (Date.now()). */
  readonly lastProgressAt: number;
  readonly running: boolean;
  /** Gracefully: what it made last goes out. */
  stop(): Promise<RunExit>;
  /** At once: it is stuck. */
  kill(): void;
}

/** Why a run ended, as the user reads it: its last error (keys redacted), else how it exited. */
export function endReason(run: Pick<SourceRun, 'lastError'>, exit: RunExit): string {
  if (run.lastError) return run.lastError.replace(/^(\[[^\]]*\]\s*)+/, '');
  return exit.signal ? `the encoder was stopped (${exit.signal})` : `the encoder ended (exit ${exit.exitCode})`;
}
