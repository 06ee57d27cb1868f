import { slaveTargets } from '../ffmpeg/argv.js';
import type { Progress } from '../ffmpeg/progress.js';
import { IngestInput } from '../ingest/input.js';
import type { IngestPublisher } from '../ingest/server.js';
import type { Plan } from '../plan/plan.js';
import type { MediaFeed } from '../relay/feed.js';
import { type LongTimer, setLongTimeout } from '../util/timers.js';
import type { EncoderOutcome } from './encoder.js';
import { EncoderRun } from './encoder-run.js';
import type { Emit } from './events.js';
import type { FfmpegExit } from './ffmpeg-process.js';

export interface DirectorOptions {
  /** `--source listen`: the stream's plan. */
  plan: Plan;
  /** The same encode with the slate as its source. */
  slatePlan: Plan;
  /** How long the slate may stay on before the stream ends (0: at once). */
  slateTimeoutMs: number;
  ffmpeg: string;
  verbose: boolean;
  watchdogMs: number;
  emit: Emit;
  signal: AbortSignal;
  feed: MediaFeed;
  /** The first publish: the destinations start dialling. */
  onFirstPublish: () => void;
  onProgress: (p: Progress) => void;
}

export interface DirectorOutcome extends EncoderOutcome {
  /** The slate's time ran out (or there was none): the source was lost. */
  sourceLost: boolean;
  /** An encoder ever published. */
  published: boolean;
  encoders: number;
}

type Kind = 'source' | 'slate';
interface Run {
  kind: Kind;
  run: EncoderRun;
  startedAt: number;
}

/** A slate's encoder that ends sooner than this after starting cannot run: the stream ends (encoder failed). */
const SLATE_MIN_RUN_MS = 5000;

/**
 * `--source listen` from the first publish to the end: each publish gets an encoder reading the publisher's FLV;
 * when the publisher goes (left, went silent, its encoder failed) the slate's encoder starts, and each takes over
 * the feed on its own first keyframe, so the destinations' sessions never end and their timelines go on. After
 * `slateTimeoutMs` of slate the stream ends (source lost).
 */
export class IngestDirector {
  #current: Run | undefined;
  #staged: Run | undefined;
  #publisher: IngestPublisher | undefined;
  #stopping = false;
  #published = false;
  #sourceLost = false;
  #encoders = 0;
  #slateTimer: LongTimer | undefined;
  #duration: LongTimer | undefined;
  #watchdog: NodeJS.Timeout | undefined;
  #lastExit: FfmpegExit = { exitCode: 0, signal: undefined };
  #lastError: string | undefined;
  #failed = false;
  readonly #done: Promise<void>;
  #finish: () => void = () => {};

  constructor(private readonly opts: DirectorOptions) {
    this.#done = new Promise((resolve) => (this.#finish = resolve));
    opts.signal.addEventListener('abort', () => this.#stop(), { once: true });
    if (opts.signal.aborted) this.#stop();
  }

  /** Runs until stopped, the duration ends, the slate's time runs out or an encoder fails on rtmpush's side. */
  async outcome(): Promise<DirectorOutcome> {
    await this.#done;
    return {
      failed: this.#failed,
      exit: this.#lastExit,
      ...(this.#lastError ? { lastError: this.#lastError } : {}),
      sourceLost: this.#sourceLost,
      published: this.#published,
      encoders: this.#encoders,
    };
  }

  publish(publisher: IngestPublisher): void {
    if (this.#stopping) return publisher.close();
    this.#publisher = publisher;
    if (!this.#published) {
      this.#published = true;
      this.opts.onFirstPublish();
      const { durationMs } = this.opts.plan;
      if (durationMs) this.#duration = setLongTimeout(() => this.#stop(), durationMs);
      this.#watchdog = setInterval(() => this.#checkProgress(), 1000);
    }
    const entry = this.#start('source');
    const input = new IngestInput(entry.run.input!);
    publisher.onMedia = (msg) => input.write(msg);
    void publisher.ended.then((reason) => {
      input.end();
      if (this.#publisher === publisher) this.#publisher = undefined;
      this.#lost(entry, reason);
    });
  }

  #start(kind: Kind): Run {
    const { plan, slatePlan } = this.opts;
    // --duration is the director's to keep, over every encoder
    const runPlan = { ...(kind === 'source' ? plan : slatePlan), durationMs: undefined };
    const entry: Run = {
      kind,
      startedAt: Date.now(),
      run: new EncoderRun(runPlan, slaveTargets(runPlan), {
        ffmpeg: this.opts.ffmpeg,
        verbose: this.opts.verbose,
        emit: this.opts.emit,
        onProgress: (p) => this.#current === entry && this.opts.onProgress(p),
      }),
    };
    this.#encoders++;
    void entry.run.exited.then((exit) => this.#exited(entry, exit));
    const leg = entry.run.legs[0]!;
    if (!this.#current) {
      this.#current = entry;
      this.opts.feed.attach(leg);
      this.#announce(entry);
      return entry;
    }
    // the one staged before is given up: this one is newer (a publisher came back while the slate started)
    if (this.#staged) void this.#staged.run.stop();
    this.#staged = entry;
    this.opts.feed.stage(
      leg,
      () => this.#taken(entry),
      () => entry.run.kill(),
    );
    return entry;
  }

  /** A staged encoder's first keyframe reached the feed: it is the stream now; the one before is stopped. */
  #taken(entry: Run): void {
    const before = this.#current;
    this.#current = entry;
    if (this.#staged === entry) this.#staged = undefined;
    if (before && before !== entry) void before.run.stop();
    this.#announce(entry);
  }

  #announce(entry: Run): void {
    if (entry.kind === 'source') {
      this.#slateTimer?.clear();
      this.#slateTimer = undefined;
      this.opts.emit({ type: 'source', state: 'live' });
    }
  }

  /** The publisher has gone: the slate goes on (or the stream ends, with no slate time). */
  #lost(entry: Run, reason: string): void {
    if (this.#stopping || this.#publisher) return;
    // a source still waiting to take over is given up; one that is current plays out its last frames
    if (this.#staged === entry) {
      this.#staged = undefined;
      void entry.run.stop();
    }
    if (this.#current?.kind === 'slate' || this.#staged?.kind === 'slate') return;
    this.opts.emit({ type: 'source', state: 'slate', reason });
    if (this.opts.slateTimeoutMs === 0) {
      this.#sourceLost = true;
      return this.#stop();
    }
    this.#slateTimer = setLongTimeout(() => {
      this.#sourceLost = true;
      this.#stop();
    }, this.opts.slateTimeoutMs);
    this.#start('slate');
  }

  #exited(entry: Run, exit: FfmpegExit): void {
    if (this.#staged === entry) this.#staged = undefined;
    if (this.#current !== entry) return;
    this.#lastExit = exit;
    this.#lastError = entry.run.lastError ?? this.#lastError;
    if (this.#stopping) return this.#end();
    if (entry.kind === 'source') {
      // the encoder ended while its publisher is still there (it failed): the publisher is cut off and may
      // publish again; the slate goes on meanwhile
      if (this.#publisher) return this.#publisher.close();
      if (!this.#staged) this.#lost(entry, 'the encoder ended');
      return;
    }
    // the slate's encoder ended (stalled, killed): another, unless it cannot run at all
    if (this.#staged) return;
    if (Date.now() - entry.startedAt > SLATE_MIN_RUN_MS) return void this.#start('slate');
    this.#failed = true;
    this.#stop();
  }

  #checkProgress(): void {
    const current = this.#current;
    if (!current || this.#stopping || !current.run.running) return;
    if (Date.now() - current.run.lastProgressAt <= this.opts.watchdogMs) return;
    this.opts.emit({
      type: 'warning',
      message: `the ${current.kind === 'slate' ? "slate's " : ''}encoder made no progress for ${Math.round(
        this.opts.watchdogMs / 1000,
      )} s: stopping it`,
    });
    current.run.kill();
  }

  #stop(): void {
    if (this.#stopping) return;
    this.#stopping = true;
    this.#slateTimer?.clear();
    this.#duration?.clear();
    clearInterval(this.#watchdog);
    this.#publisher?.close();
    if (this.#staged) void this.#staged.run.stop();
    if (!this.#current?.run.running) return this.#end();
    void this.#current.run.stop();
  }

  #end(): void {
    clearInterval(this.#watchdog);
    this.#finish();
  }
}
