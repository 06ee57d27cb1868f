import { slaveTargets } from '../ffmpeg/argv.js';
import type { Progress } from '../ffmpeg/progress.js';
import type { IngestPublisher } from '../ingest/server.js';
import { PublisherTap } from '../ingest/tap.js';
import { CopyRun } from '../ingest/copy-run.js';
import { takeCopy } from '../ingest/copy-take.js';
import type { Platform } from '../platforms/table.js';
import type { Plan } from '../plan/plan.js';
import type { MediaFeed } from '../relay/feed.js';
import { type LongTimer, setLongTimeout } from '../util/timers.js';
import type { EncoderOutcome } from './encoder.js';
import { EncoderRun } from './encoder-run.js';
import type { Emit } from './events.js';
import type { FfmpegExit } from './ffmpeg-process.js';
import { lossReason, slatePlanFor, withVideoKbps } from './source-runs.js';

export interface DirectorOptions {
  /**
   * The stream's plan. `--source listen`: a source encoder runs while an encoder publishes. A URL, camera or
   * screen: one runs from the start, and after a loss is tried again (staged, so the slate plays until it works).
   */
  plan: Plan;
  /** The same encode with the slate as its source. */
  slatePlan: Plan;
  /** How long the slate may stay on before the stream ends (0: at once). */
  slateTimeoutMs: number;
  /** `--copy`: the publisher's stream goes out unchanged, once it meets these platforms' rules. */
  copyFor?: Platform[];
  ffmpeg: string;
  verbose: boolean;
  watchdogMs: number;
  emit: Emit;
  signal: AbortSignal;
  feed: MediaFeed;
  /** The first publish (at once for a source that is not `listen`): the destinations start dialling. */
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
  run: EncoderRun | CopyRun;
  startedAt: number;
}

/** A slate's encoder that ends sooner than this after starting cannot run: the stream ends (encoder failed). */
const SLATE_MIN_RUN_MS = 5000;

/** After a loss, a source that is not `listen` is tried again this soon, then less often, up to the longest. */
const RETRY_FIRST_MS = 1000;
const RETRY_LONGEST_MS = 10_000;
/**
 * A URL, camera or screen whose encoder has given frames and then none for this long is lost (the leg is read at
 * least every ~0.4 s while frames flow). An ingest is judged by its publisher instead (see IngestServer).
 */
export const SOURCE_SILENCE_MS = 1000;

/**
 * Keeps the destinations fed whatever the source does. `--source listen`, from the first publish: each publish gets
 * an encoder reading the publisher's FLV. A URL, camera or screen: its encoder runs from the start. When the
 * source is lost (the publisher left or went silent, the encoder failed or stalled) the slate's encoder starts,
 * and each encoder takes over the feed on its own first keyframe, so the destinations' sessions never end and
 * their timelines go on; a source that is not `listen` is tried again meanwhile. After `slateTimeoutMs` of slate
 * the stream ends (source lost).
 */
export class SourceDirector {
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
  #retryTimer: NodeJS.Timeout | undefined;
  #tap: PublisherTap | undefined;
  /** The slate's encode: the plan's, or (`--copy`) what the encoder sends. */
  #slatePlan: Plan;
  /** The source has given frames at least once (before that, a failing URL or device is an error, not a loss). */
  #sourceFed = false;
  /** The video bitrate now (it follows the uplink), for every encoder started from now on. */
  #videoKbps: number;
  #retryMs = RETRY_FIRST_MS;
  readonly #listen: boolean;
  #lastExit: FfmpegExit = { exitCode: 0, signal: undefined };
  #lastError: string | undefined;
  #failed = false;
  readonly #done: Promise<void>;
  #finish: () => void = () => {};

  constructor(private readonly opts: DirectorOptions) {
    this.#done = new Promise((resolve) => (this.#finish = resolve));
    this.#listen = opts.plan.source.kind === 'listen';
    this.#videoKbps = opts.plan.video.kbps;
    this.#slatePlan = opts.slatePlan;
    opts.signal.addEventListener('abort', () => this.#stop(), { once: true });
    if (opts.signal.aborted) this.#stop();
    else if (!this.#listen) {
      this.#begin();
      this.#start('source');
    }
  }

  /** The current encoder cannot be used (its leg is not FLV): it is stopped, and the source counts as lost. */
  restart(reason: string): void {
    const current = this.#current;
    if (!current || this.#stopping) return;
    this.opts.emit({ type: 'warning', message: `${reason}: stopping it` });
    current.run.kill();
  }

  #begin(): void {
    this.#published = true;
    this.opts.onFirstPublish();
    const { durationMs } = this.opts.plan;
    if (durationMs) this.#duration = setLongTimeout(() => this.#stop(), durationMs);
    this.#watchdog = setInterval(() => this.#checkProgress(), 250);
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
    if (this.opts.copyFor) return this.#publishCopy(publisher);
    if (!this.#published) this.#begin();
    // the publisher's media goes to every encoder of it (two while a bitrate change switches over)
    const tap = new PublisherTap(publisher);
    this.#tap = tap;
    const entry = this.#start('source');
    void publisher.ended.then((reason) => {
      tap.end();
      if (this.#tap === tap) this.#tap = undefined;
      if (this.#publisher === publisher) this.#publisher = undefined;
      this.#lost(this.#current?.kind === 'source' ? this.#current : entry, reason);
    });
  }

  /**
   * The video bitrate follows the uplink: the source's encoder is swapped for one at `kbps`, which takes over on its
   * first keyframe (the destinations keep their sessions). While the slate plays, or a switch is under way, the
   * next encoder takes it.
   */
  setVideoKbps(kbps: number): void {
    this.#videoKbps = kbps;
    if (this.#stopping || this.#current?.kind !== 'source' || this.#staged) return;
    if (this.#listen && !this.#tap) return;
    this.#start('source');
  }

  /** `--copy`: the publisher's stream goes out as it is, once it meets the platforms' rules (else it is refused). */
  #publishCopy(publisher: IngestPublisher): void {
    let taken: Run | undefined;
    takeCopy(publisher, this.opts.copyFor ?? [], {
      warn: (message) => this.opts.emit({ type: 'warning', message }),
      taken: (stream) => {
        // the slate matches what the encoder sends: its size, frame rate, keyframes and bitrate
        this.#slatePlan = slatePlanFor(this.opts.slatePlan, stream);
        if (!this.#published) this.#begin();
        const entry: Run = {
          kind: 'source',
          startedAt: Date.now(),
          run: new CopyRun((p) => this.#current === entry && this.opts.onProgress(p)),
        };
        taken = this.#register(entry, undefined);
        return entry.run as CopyRun;
      },
    });
    void publisher.ended.then((reason) => {
      void taken?.run.stop();
      if (this.#publisher === publisher) this.#publisher = undefined;
      if (taken) this.#lost(taken, reason);
    });
  }

  #start(kind: Kind): Run {
    const { plan } = this.opts;
    // --duration is the director's to keep, over every encoder
    const runPlan = withVideoKbps(
      { ...(kind === 'source' ? plan : this.#slatePlan), durationMs: undefined },
      this.#videoKbps,
    );
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
    return this.#register(entry, kind === 'source' ? this.#tap : undefined);
  }

  /** A new run: it is fed (an ingest), attached when it is the first, else staged to take over on a keyframe. */
  #register(entry: Run, tap: PublisherTap | undefined): Run {
    tap?.add(entry, entry.run.input!);
    void entry.run.exited.then((exit) => {
      tap?.remove(entry);
      this.#exited(entry, exit);
    });
    const leg = entry.run.legs[0]!;
    if (!this.#current) {
      this.#current = entry;
      this.opts.feed.attach(leg);
      this.#announce(entry, undefined);
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
    this.#announce(entry, before);
  }

  #announce(entry: Run, before: Run | undefined): void {
    if (entry.kind !== 'source' || before?.kind === 'source') return;
    if (before) this.#sourceFed = true;
    this.#retryMs = RETRY_FIRST_MS;
    // the first encoder of a stream is not news; the source back after the slate is
    if (!this.#slateTimer && !this.#listen) return;
    this.#slateTimer?.clear();
    this.#slateTimer = undefined;
    this.opts.emit({ type: 'source', state: 'live' });
  }

  /** A source that is not `listen`, lost: its encoder is started again, staged, until one takes over. */
  #retryLater(): void {
    if (this.#listen || this.#stopping || this.#retryTimer || this.#staged?.kind === 'source') return;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      if (this.#stopping || this.#current?.kind === 'source') return;
      // the slate is still starting: the source is tried once it plays
      if (this.#staged) return this.#retryLater();
      const entry = this.#start('source');
      // one that never shows a keyframe is given up, and tried again later
      const giveUp = setTimeout(() => this.#staged === entry && entry.run.kill(), this.opts.watchdogMs);
      void entry.run.exited.then(() => clearTimeout(giveUp));
    }, this.#retryMs);
    this.#retryMs = Math.min(RETRY_LONGEST_MS, this.#retryMs * 2);
  }

  /** The source has gone: the slate goes on (or the stream ends, with no slate time). */
  #lost(entry: Run, reason: string): void {
    if (this.#stopping || this.#publisher) return;
    this.#retryLater();
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
    if (this.#current !== entry) {
      // a retry that did not take over: another, later
      if (entry.kind === 'source' && this.#current?.kind !== 'source') this.#retryLater();
      return;
    }
    this.#lastExit = exit;
    this.#lastError = entry.run.lastError ?? this.#lastError;
    if (this.#stopping) return this.#end();
    if (entry.kind === 'source') {
      // the encoder ended while its publisher is still there (it failed): the publisher is cut off and may
      // publish again; the slate goes on meanwhile
      if (this.#publisher) return this.#publisher.close();
      // a URL, camera or screen that never gave a frame is not lost but wrong (a typo, no such device): it fails
      // the stream as it always did, rather than putting a slate on air for minutes
      if (!this.#listen && !this.#sourceFed && this.opts.feed.lastMediaAt === 0) {
        this.#failed = true;
        return this.#stop();
      }
      if (!this.#staged) this.#lost(entry, lossReason(entry.run, exit));
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
    const fedAt = this.opts.feed.lastMediaAt;
    if (current.kind === 'source' && fedAt > 0) this.#sourceFed = true;
    if (!this.#listen && current.kind === 'source' && fedAt > 0 && performance.now() - fedAt > SOURCE_SILENCE_MS)
      return this.#lost(current, `no frames from the source for ${SOURCE_SILENCE_MS / 1000} s`);
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
    clearTimeout(this.#retryTimer);
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
