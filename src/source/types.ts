import type { RunExit } from '../encoder/run.js';
import type { RunEvent } from '../run/events.js';
import type { RetryPolicy } from '../state/backoff.js';

// The source machine's words (machine.ts): what a stream's source allows, its state, the events it hears and
// the effects it asks for.

/** What the stream's source allows, fixed for the run. */
export interface SourceSetup {
  /** `--source listen`: runs start when an encoder publishes (`copy`: its stream goes out as it is). */
  listen: boolean;
  copy: boolean;
  /** A lost source is covered by the slate; without one a loss ends the stream, and a stall restarts the encoder. */
  slate: boolean;
  /** How long the slate may play before the stream ends (0: at once). */
  slateTimeoutMs: number;
  /** A stalled encoder can be started again (not one reading stdin). */
  restartable: boolean;
  /** The encoder can be swapped for one at another bitrate or speed while it runs (the source opened twice). */
  swappable: boolean;
  /** The planned video bitrate. */
  kbps: number;
  /** No progress (or, staged, no keyframe) for this long: the encoder is stuck. */
  watchdogMs: number;
  durationMs?: number;
}

export type RunKind = 'source' | 'slate';

/** One encoder (or `--copy` run) the machine started. */
export interface RunRef {
  readonly id: number;
  readonly kind: RunKind;
  readonly kbps: number;
  /** x264 speeds faster than planned. */
  readonly steps: number;
  /** An ingest's run: whose stream it reads, and whether that has audio (else silence is added). */
  readonly publisher?: number;
  readonly audio?: boolean;
  readonly startedAt: number;
  /** Started to change the bitrate or speed of the one before it. */
  readonly swap?: boolean;
  /** rtmpush killed it as stuck (why): its end is a restart. */
  readonly killedFor?: string;
}

export interface Counts {
  /** Encoders rtmpush found stuck and started again. */
  restarts: number;
  /** Times the slate went on. */
  slates: number;
  /** Bitrate and x264 speed swaps that took over. */
  swaps: number;
}

export interface SourceState {
  readonly phase: 'waiting' | 'streaming' | 'stopping' | 'ended';
  /** What the destinations were last told they get. */
  readonly shown: 'waiting' | 'live' | 'slate';
  /** The run feeding the destinations. */
  readonly current?: RunRef;
  /** A run started to take over on its first keyframe. */
  readonly staged?: RunRef;
  /** Runs still running (their exit not seen yet). */
  readonly running: readonly number[];
  /** The encoder publishing now (`listen`): its first keyframe came (`ready`), with audio or not. */
  readonly publisher?: { readonly id: number; readonly ready: boolean; readonly audio: boolean };
  /** The source has given frames at least once (before that a URL or device that fails is wrong, not lost). */
  readonly fed: boolean;
  /** The bitrate and x264 steps wanted now, for every run started from now on. */
  readonly kbps: number;
  readonly steps: number;
  /** Tries in a row to get a lost source back, and whether one is waiting. */
  readonly retries: number;
  readonly retrying: boolean;
  readonly nextId: number;
  /** When the stream began (an ingest's first publish, else the start): --duration counts from it. */
  readonly startedAt: number;
  readonly counts: Counts;
  /** Something published (or, not `listen`, the stream began): the destinations were started. */
  readonly published: boolean;
  readonly failed: boolean;
  readonly sourceLost: boolean;
  readonly exit: RunExit;
  readonly lastError?: string;
}

export type SourceEvent =
  /** The stream starts (a source that is not `listen` starts encoding at once). */
  | { type: 'start'; at: number }
  /** `listen`: an encoder published; its first keyframe came (or, `--copy`, its stream was accepted); it left. */
  | { type: 'publish'; publisher: number; at: number }
  | { type: 'ready'; publisher: number; audio: boolean; at: number }
  | { type: 'gone'; publisher: number; reason: string; at: number }
  /** A staged run's first keyframe reached every feed: it is the stream now. */
  | { type: 'taken'; run: number; at: number }
  /** `fed`: the feed got media from the stream's run since it became the stream. */
  | { type: 'exited'; run: number; exit: RunExit; reason: string; lastError?: string; fed: boolean; at: number }
  /**
   * Every 250 ms: whether the current run's media reached the feed, for how long the source has given none (0: it
   * is not silent), and how long since the current run made progress.
   */
  | { type: 'tick'; fed: boolean; silentS: number; stillMs: number; at: number }
  /** rtmpush cannot use the current run (its leg is not FLV): it is killed. */
  | { type: 'fault'; reason: string; at: number }
  | { type: 'retry-due'; at: number }
  | { type: 'slate-timeout'; at: number }
  | { type: 'staged-timeout'; run: number; at: number }
  /** Stop: Ctrl-C, SIGTERM, the control API, --duration. */
  | { type: 'stop'; at: number }
  | { type: 'bitrate'; kbps: number; at: number }
  | { type: 'speed'; steps: number; at: number };

export type Timer = 'retry' | 'slate' | 'staged' | 'duration';

export type SourceEffect =
  /** Start this run: as the stream (`stage` false: there is none) or to take over on its first keyframe. */
  | { type: 'run'; run: RunRef; stage: boolean; durationMs?: number }
  /** It is the stream now (the recording follows it). */
  | { type: 'current'; run: number }
  /** Gracefully (replaced, or the stream stops); at once (stuck); or given up before it took over. */
  | { type: 'stop-run'; run: number }
  | { type: 'kill-run'; run: number }
  | { type: 'abandon-run'; run: number }
  | { type: 'emit'; event: RunEvent }
  | { type: 'set-timer'; timer: Timer; ms: number; run?: number }
  | { type: 'clear-timer'; timer: Timer }
  | { type: 'close-publisher'; publisher: number; reason?: string }
  /** The destinations start dialling. */
  | { type: 'destinations' }
  | { type: 'done' };

/** A slate whose encoder ends sooner than this after starting cannot run: the stream ends (encoder failed). */
export const SLATE_MIN_RUN_MS = 5000;
/** A lost source (not `listen`) is tried again after 1 s, then 2, 4 … 10 s. */
export const SOURCE_RETRY: RetryPolicy = {
  initialMs: 1000,
  factor: 2,
  maxMs: 10_000,
  jitter: 0,
  rejectInitialMs: 1000,
  rejectLimit: Number.POSITIVE_INFINITY,
};
/** --duration bounds ffmpeg itself (-t) where no slate covers; this much later rtmpush stops it. */
export const STOP_SLACK_MS = 15_000;

export function initialSource(setup: SourceSetup, at: number): SourceState {
  return {
    phase: 'waiting',
    shown: setup.listen ? 'waiting' : 'live',
    running: [],
    fed: false,
    kbps: setup.kbps,
    steps: 0,
    retries: 0,
    retrying: false,
    nextId: 1,
    startedAt: at,
    counts: { restarts: 0, slates: 0, swaps: 0 },
    published: false,
    failed: false,
    sourceLost: false,
    exit: { exitCode: 0, signal: undefined },
  };
}
