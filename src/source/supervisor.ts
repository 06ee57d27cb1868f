import type { Readable } from 'node:stream';
import { endReason, type RunExit, type SourceRun } from '../encoder/run.js';
import type { FeedSet, StagedLegs } from '../relay/feeds.js';
import type { Emit } from '../run/events.js';
import { type LongTimer, setLongTimeout } from '../util/timers.js';
import {
  type Counts,
  initialSource,
  nextSource,
  type RunRef,
  type SourceEffect,
  type SourceEvent,
  type SourceSetup,
  type SourceState,
  type Timer,
} from './machine.js';
import type { SilenceJudge } from './silence.js';

/** What the supervisor asks of the run factory, besides the run the machine wants. */
export interface RunContext {
  /** ffmpeg ends by itself after this long (--duration where no slate covers). */
  durationMs?: number;
  /** Whether this run is the stream now (only its progress is the stream's). */
  isCurrent: () => boolean;
}

export interface SupervisorOptions {
  setup: SourceSetup;
  /** Makes the run the machine asks for: an encoder of the source or of the slate, or `--copy`'s run. */
  makeRun: (run: RunRef, context: RunContext) => SourceRun;
  feed: FeedSet;
  silence: SilenceJudge;
  emit: Emit;
  /** Aborting stops the stream gracefully (Ctrl-C, SIGTERM, the control API). */
  signal: AbortSignal;
  /** The destinations start dialling (the first publish, or at once). */
  onDestinations: () => void;
  /** A run has become the stream: its legs (the recording's after the feeds'). */
  onCurrent?: (legs: Readable[]) => void;
  /** `listen`: cut a publisher off (saying why, when rtmpush's side failed on its stream). */
  closePublisher?: (publisher: number, reason?: string) => void;
}

export interface SourceOutcome {
  /** It failed by itself (not stopped by rtmpush): an exit code, or a stall at the end. */
  failed: boolean;
  exit: RunExit;
  /** ffmpeg's last error line, keys redacted. */
  lastError?: string;
  /** The slate's time ran out (or there was none): the source was lost. */
  sourceLost: boolean;
  /** An encoder ever published (or, not `listen`, the stream began). */
  published: boolean;
}

/** How often silence and progress are judged. */
const TICK_MS = 250;

interface Started {
  ref: RunRef;
  run: SourceRun;
  /** While staged: its legs, read until it takes over (closed if it is given up). */
  staged?: StagedLegs;
}

/**
 * The one supervisor of a stream's encoders: it feeds the source machine (nextSource) what happens — runs that
 * start, take over, stall or end, publishers, timers, silence — and does what it decides: starts runs through the
 * factory, attaches or stages their legs on the feed, stops or kills them, sets timers, tells the user.
 */
export class SourceSupervisor {
  #state: SourceState;
  readonly #runs = new Map<number, Started>();
  readonly #timers = new Map<Timer, LongTimer>();
  readonly #queue: SourceEvent[] = [];
  #dispatching = false;
  readonly #tick: NodeJS.Timeout;
  readonly #done: Promise<void>;
  #finish: () => void = () => {};

  constructor(private readonly opts: SupervisorOptions) {
    this.#state = initialSource(opts.setup, Date.now());
    this.#done = new Promise((resolve) => (this.#finish = resolve));
    this.#tick = setInterval(() => this.#onTick(), TICK_MS);
    opts.signal.addEventListener('abort', () => this.dispatch({ type: 'stop', at: Date.now() }), { once: true });
    if (opts.signal.aborted) this.dispatch({ type: 'stop', at: Date.now() });
  }

  /** Streams from now on (a source that is not `listen`: its encoder starts at once). */
  start(): void {
    if (!this.opts.setup.listen) this.dispatch({ type: 'start', at: Date.now() });
  }

  get state(): SourceState {
    return this.#state;
  }

  get counts(): Counts {
    return this.#state.counts;
  }

  /** Runs until stopped, the duration ends, the slate's time runs out or the source fails on rtmpush's side. */
  async outcome(): Promise<SourceOutcome> {
    await this.#done;
    const s = this.#state;
    return {
      failed: s.failed,
      exit: s.exit,
      ...(s.lastError ? { lastError: s.lastError } : {}),
      sourceLost: s.sourceLost,
      published: s.published,
    };
  }

  /** Something happened: the machine decides, then it is done. Events that come meanwhile wait their turn. */
  dispatch(event: SourceEvent): void {
    this.#queue.push(event);
    if (this.#dispatching) return;
    this.#dispatching = true;
    try {
      for (let e = this.#queue.shift(); e; e = this.#queue.shift()) {
        const { state, effects } = nextSource(this.opts.setup, this.#state, e);
        this.#state = state;
        for (const effect of effects) this.#do(effect);
      }
    } finally {
      this.#dispatching = false;
    }
  }

  #do(effect: SourceEffect): void {
    switch (effect.type) {
      case 'run':
        return this.#start(effect.run, effect.stage, effect.durationMs);
      case 'current': {
        const legs = this.#runs.get(effect.run)?.run.legs;
        if (legs) this.opts.onCurrent?.(legs);
        return;
      }
      case 'stop-run':
        return void this.#runs.get(effect.run)?.run.stop();
      case 'kill-run':
        return this.#runs.get(effect.run)?.run.kill();
      case 'abandon-run': {
        const started = this.#runs.get(effect.run);
        started?.staged?.close();
        return started?.run.kill();
      }
      case 'emit':
        return this.opts.emit(effect.event);
      case 'set-timer':
        return this.#setTimer(effect.timer, effect.ms, effect.run);
      case 'clear-timer':
        this.#timers.get(effect.timer)?.clear();
        this.#timers.delete(effect.timer);
        return;
      case 'close-publisher':
        return this.opts.closePublisher?.(effect.publisher, effect.reason);
      case 'destinations':
        return this.opts.onDestinations();
      case 'done':
        clearInterval(this.#tick);
        for (const timer of this.#timers.values()) timer.clear();
        return this.#finish();
    }
  }

  /** The run the machine asked for: attached to the feed as the stream, or staged to take over on a keyframe. */
  #start(ref: RunRef, stage: boolean, durationMs: number | undefined): void {
    const isCurrent = (): boolean => this.#state.current?.id === ref.id;
    let run: SourceRun;
    try {
      run = this.opts.makeRun(ref, { ...(durationMs !== undefined ? { durationMs } : {}), isCurrent });
    } catch (error) {
      // it could not even start (the slate's card not written: a full disk): it ended at once, saying why
      const lastError = error instanceof Error ? error.message : String(error);
      const exit: RunExit = { exitCode: 1, signal: undefined };
      queueMicrotask(() =>
        this.dispatch({ type: 'exited', run: ref.id, exit, reason: lastError, lastError, fed: false, at: Date.now() }),
      );
      return;
    }
    const started: Started = { ref, run };
    this.#runs.set(ref.id, started);
    void run.exited.then((exit) => {
      this.#runs.delete(ref.id);
      this.dispatch({
        type: 'exited',
        run: ref.id,
        exit,
        reason: endReason(run, exit),
        ...(run.lastError ? { lastError: run.lastError } : {}),
        fed: isCurrent() && this.opts.feed.lastMediaAt > 0,
        at: Date.now(),
      });
    });
    if (!stage) return this.opts.feed.attach(run.legs);
    started.staged = this.opts.feed.stage(
      run.legs,
      () => this.dispatch({ type: 'taken', run: ref.id, at: Date.now() }),
      () => run.kill(),
    );
  }

  #setTimer(timer: Timer, ms: number, run?: number): void {
    this.#timers.get(timer)?.clear();
    const at = (): number => Date.now();
    const fire: Record<Timer, () => SourceEvent> = {
      retry: () => ({ type: 'retry-due', at: at() }),
      slate: () => ({ type: 'slate-timeout', at: at() }),
      staged: () => ({ type: 'staged-timeout', run: run ?? 0, at: at() }),
      duration: () => ({ type: 'stop', at: at() }),
    };
    this.#timers.set(
      timer,
      setLongTimeout(() => {
        this.#timers.delete(timer);
        this.dispatch(fire[timer]());
      }, ms),
    );
  }

  /** Silence and progress, judged from the feed and the current run. */
  #onTick(): void {
    const current = this.#state.current;
    const run = current && this.#runs.get(current.id)?.run;
    if (!current || !run || this.#state.phase !== 'streaming') return;
    const fedAt = this.opts.feed.lastMediaAt;
    const fed = fedAt > 0;
    const silentS = current.kind === 'source' && fed ? this.opts.silence.judge(fedAt, performance.now()) : 0;
    this.dispatch({ type: 'tick', fed, silentS, stillMs: Date.now() - run.lastProgressAt, at: Date.now() });
  }
}
