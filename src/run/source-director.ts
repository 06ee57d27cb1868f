import type { Readable } from 'node:stream';
import { teeLegs } from '../ffmpeg/argv.js';
import type { Progress } from '../ffmpeg/progress.js';
import { CopyRun } from '../ingest/copy-run.js';
import { takeCopy } from '../ingest/copy-take.js';
import type { IngestPublisher } from '../ingest/server.js';
import { PublisherTap } from '../ingest/tap.js';
import { mapEncodes, type Plan } from '../plan/plan.js';
import type { Platform } from '../platforms/table.js';
import type { FeedSet, StagedLegs } from '../relay/feeds.js';
import { type LongTimer, setLongTimeout } from '../util/timers.js';
import type { EncoderOutcome } from './encoder.js';
import { EncoderRun } from './encoder-run.js';
import type { Emit } from './events.js';
import type { FfmpegExit } from './ffmpeg-process.js';
import { lossReason, SilenceJudge, slatePlanFor, withTune, withVideoKbps, withX264Steps } from './source-runs.js';

export interface DirectorOptions {
  /**
   * The stream's plan. `--source listen`: a source encoder runs while an encoder publishes. A URL, camera or
   * screen: one runs from the start, and after a loss is tried again (staged, so the slate plays until it works).
   */
  plan: Plan;
  /** The same encode for the slate; its source's path is asked for (`slatePath`) when a slate starts. */
  slatePlan: Plan;
  /** `--slate FILE`, or rtmpush's card drawn at that size (written when first needed). */
  slatePath: (width: number, height: number) => string;
  /** How long the slate may stay on before the stream ends (0: at once). */
  slateTimeoutMs: number;
  /** `--copy`: the publisher's stream goes out unchanged, once it meets these platforms' rules. */
  copyFor?: Platform[];
  ffmpeg: string;
  verbose: boolean;
  watchdogMs: number;
  emit: Emit;
  signal: AbortSignal;
  feed: FeedSet;
  /** The first publish (at once for a source that is not `listen`): the destinations start dialling. */
  onFirstPublish: () => void;
  /** An encoder has become the stream (the first, or one taking over): its legs (the recording's after the feed's). */
  onCurrent?: (legs: Readable[]) => void;
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
  /** The video bitrate it encodes at. */
  kbps: number;
  /** How many x264 speeds faster than planned it runs. */
  steps: number;
  /** An ingest's encoder: whose stream it reads. */
  publisher?: IngestPublisher;
  /** While staged: its leg, read until it takes over (closed if it is given up). */
  leg?: StagedLegs;
  /** Given up by the director (a newer one came, it never took over, the stream stops): its end means nothing. */
  abandoned?: boolean;
}

/** A slate's encoder that ends sooner than this after starting cannot run: the stream ends (encoder failed). */
const SLATE_MIN_RUN_MS = 5000;
/** After a loss, a source that is not `listen` is tried again this soon, then less often, up to the longest. */
const RETRY_FIRST_MS = 1000;
const RETRY_LONGEST_MS = 10_000;

/**
 * Keeps the destinations fed whatever the source does. `--source listen`, from the first publish: each publish gets
 * an encoder reading the publisher's FLV (or, `--copy`, its stream as it is). A URL, camera or screen: its encoder
 * runs from the start. When the source is lost (the publisher left or went silent, the encoder failed or stalled)
 * the slate's encoder starts; every encoder takes over the feed on its own first keyframe, so the destinations'
 * sessions never end and their timelines go on; a source that is not `listen` is tried again meanwhile. After
 * `slateTimeoutMs` of slate the stream ends (source lost). The video bitrate can be changed the same way.
 */
export class SourceDirector {
  #current: Run | undefined;
  #staged: Run | undefined;
  #publisher: IngestPublisher | undefined;
  #tap: PublisherTap | undefined;
  /** What the destinations were last told they get. */
  #announced: 'waiting' | 'live' | 'slate';
  #stopping = false;
  #published = false;
  #sourceLost = false;
  #encoders = 0;
  #slateTimer: LongTimer | undefined;
  #duration: LongTimer | undefined;
  #watchdog: NodeJS.Timeout | undefined;
  #retryTimer: NodeJS.Timeout | undefined;
  #retryMs = RETRY_FIRST_MS;
  /** The slate's encode: the plan's, or (`--copy`) what the encoder sends. */
  #slatePlan: Plan;
  /** The source has given frames at least once (before that, a failing URL or device is an error, not a loss). */
  #sourceFed = false;
  /** The video bitrate wanted now (it follows the uplink), for every encoder started from now on. */
  #videoKbps: number;
  /** How many x264 speeds faster than planned, when the machine cannot carry the plan's. */
  #x264Steps = 0;
  readonly #listen: boolean;
  /** An ingest: whether its publisher sends audio (else silence is added). */
  #sourceAudio = true;
  readonly #silence: SilenceJudge;
  #lastExit: FfmpegExit = { exitCode: 0, signal: undefined };
  #lastError: string | undefined;
  #failed = false;
  readonly #done: Promise<void>;
  #finish: () => void = () => {};

  constructor(private readonly opts: DirectorOptions) {
    this.#done = new Promise((resolve) => (this.#finish = resolve));
    this.#listen = opts.plan.source.kind === 'listen';
    this.#announced = this.#listen ? 'waiting' : 'live';
    this.#videoKbps = opts.plan.video.kbps;
    this.#slatePlan = opts.slatePlan;
    this.#silence = new SilenceJudge(opts.plan.source);
    opts.signal.addEventListener('abort', () => this.#stop(), { once: true });
    if (opts.signal.aborted) this.#stop();
    else if (!this.#listen) {
      this.#begin();
      this.#start('source');
    }
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

  /** The current encoder cannot be used (its leg is not FLV): it is stopped, and the source counts as lost. */
  restart(reason: string): void {
    const current = this.#current;
    if (!current || this.#stopping) return;
    this.opts.emit({ type: 'warning', message: `${reason}: stopping it` });
    current.run.kill();
  }

  publish(publisher: IngestPublisher): void {
    if (this.#stopping) return publisher.close();
    this.#publisher = publisher;
    // a source of the publisher before it that has not taken over yet never will
    if (this.#staged?.kind === 'source') this.#abandon(this.#staged);
    if (this.opts.copyFor) return this.#publishCopy(publisher);
    if (!this.#published) this.#begin();
    // the publisher's media goes to every encoder of it (two while a bitrate change switches over); the first
    // starts at its first keyframe, knowing whether audio comes with the video
    const tap = new PublisherTap(publisher, (audio) => {
      clearTimeout(noKeyframe);
      if (this.#publisher !== publisher || this.#stopping) return;
      this.#sourceAudio = audio;
      this.#start('source');
    });
    this.#tap = tap;
    const seconds = Math.round(this.opts.watchdogMs / 1000);
    const noKeyframe = setTimeout(
      () => publisher.close(`no video keyframe from the encoder in ${seconds} s`),
      this.opts.watchdogMs,
    );
    void publisher.ended.then((reason) => {
      clearTimeout(noKeyframe);
      tap.end();
      if (this.#tap === tap) this.#tap = undefined;
      this.#gone(publisher, reason);
    });
  }

  /**
   * The video bitrate follows the uplink: the source's encoder is swapped for one at `kbps`, which takes over on its
   * first keyframe (the destinations keep their sessions). While the slate plays, or a switch is under way, the
   * next encoder takes it (a switch that lands on an old rate starts another).
   */
  setVideoKbps(kbps: number): void {
    this.#videoKbps = kbps;
    this.#swapIfNeeded();
  }

  /** The machine cannot carry the planned x264 speeds (or can again): swapped the same way as a bitrate. */
  setX264Steps(steps: number): void {
    this.#x264Steps = steps;
    this.#swapIfNeeded();
  }

  #swapIfNeeded(): void {
    const current = this.#current;
    if (this.#stopping || current?.kind !== 'source' || this.#staged) return;
    if (current.kbps === this.#videoKbps && current.steps === this.#x264Steps) return;
    if (current.run instanceof CopyRun || (this.#listen && !this.#tap?.ready)) return;
    this.#start('source');
  }

  #begin(): void {
    this.#published = true;
    this.opts.onFirstPublish();
    const { durationMs } = this.opts.plan;
    if (durationMs) this.#duration = setLongTimeout(() => this.#stop(), durationMs);
    this.#watchdog = setInterval(() => this.#checkProgress(), 250);
  }

  /** `--copy`: the publisher's stream goes out as it is, once it meets the platforms' rules (else it is refused). */
  #publishCopy(publisher: IngestPublisher): void {
    takeCopy(publisher, this.opts.copyFor ?? [], {
      warn: (message) => this.opts.emit({ type: 'warning', message }),
      taken: (stream) => {
        // the slate matches what the encoder sends: its size, frame rate, keyframes and bitrate
        this.#slatePlan = slatePlanFor(this.opts.slatePlan, stream);
        if (!this.#published) this.#begin();
        const entry: Run = {
          kind: 'source',
          startedAt: Date.now(),
          kbps: stream.videoKbps,
          steps: 0,
          publisher,
          run: new CopyRun((p) => this.#current === entry && this.opts.onProgress(p)),
        };
        this.#register(entry);
        return entry.run as CopyRun;
      },
    });
    void publisher.ended.then((reason) => {
      for (const entry of [this.#current, this.#staged]) if (entry?.publisher === publisher) void entry.run.stop();
      this.#gone(publisher, reason);
    });
  }

  /** A publisher has gone: its encoder that never took over is given up; the slate goes on (if it was live). */
  #gone(publisher: IngestPublisher, reason: string): void {
    if (this.#publisher !== publisher) return;
    this.#publisher = undefined;
    if (this.#staged?.publisher === publisher) this.#abandon(this.#staged);
    if (this.#current?.publisher === publisher) this.#lost(reason);
  }

  #start(kind: Kind): Run {
    const { plan } = this.opts;
    const source = plan.source.kind === 'listen' ? { ...plan.source, audio: this.#sourceAudio } : plan.source;
    // --duration is the director's to keep, over every encoder
    let runPlan = withVideoKbps(
      { ...(kind === 'source' ? { ...plan, source } : this.#slatePlan), durationMs: undefined },
      this.#videoKbps,
    );
    const steps = this.#x264Steps;
    if (steps) runPlan = withX264Steps(runPlan, steps);
    if (kind === 'slate' && runPlan.source.kind === 'slate')
      // its first frame out at once (no lookahead): the slate is on air within a second of the loss
      runPlan = withTune({ ...runPlan, source: { ...runPlan.source, path: this.#slateFile(runPlan) } }, 'zerolatency');
    // rtmpush's card is shown whole in every encode's frame (a vertical one would crop its words)
    if (kind === 'slate' && !this.opts.plan.slate?.path)
      runPlan = mapEncodes(runPlan, (e) => ({ ...e, video: { ...e.video, fit: 'pad' } }));
    const entry: Run = {
      kind,
      startedAt: Date.now(),
      kbps: runPlan.video.kbps,
      steps,
      ...(kind === 'source' && this.#publisher ? { publisher: this.#publisher } : {}),
      run: new EncoderRun(runPlan, teeLegs(runPlan), {
        ffmpeg: this.opts.ffmpeg,
        verbose: this.opts.verbose,
        emit: this.opts.emit,
        onProgress: (p) => this.#current === entry && this.opts.onProgress(p),
      }),
    };
    this.#encoders++;
    const tap = kind === 'source' ? this.#tap : undefined;
    tap?.add(entry, entry.run.input!);
    void entry.run.exited.then(() => tap?.remove(entry));
    return this.#register(entry);
  }

  #slateFile(plan: Plan): string {
    return this.opts.slatePath(plan.video.width, plan.video.height);
  }

  /** A new run: attached when it is the first, else staged to take over on its first keyframe. */
  #register(entry: Run): Run {
    void entry.run.exited.then((exit) => this.#exited(entry, exit));
    const legs = entry.run.legs;
    if (!this.#current) {
      this.#current = entry;
      this.opts.feed.attach(legs);
      this.opts.onCurrent?.(legs);
      this.#announce(entry);
      return entry;
    }
    if (this.#staged) this.#abandon(this.#staged);
    this.#staged = entry;
    entry.leg = this.opts.feed.stage(
      legs,
      () => this.#taken(entry),
      () => entry.run.kill(),
    );
    // one that never shows a keyframe is given up (a retry comes later; a publisher's is cut off)
    const giveUp = setTimeout(() => this.#staged === entry && entry.run.kill(), this.opts.watchdogMs);
    void entry.run.exited.then(() => clearTimeout(giveUp));
    return entry;
  }

  /** Given up: its leg is closed (it can no longer take over) and its encoder killed. */
  #abandon(entry: Run): void {
    entry.abandoned = true;
    if (this.#staged === entry) this.#staged = undefined;
    entry.leg?.close();
    entry.run.kill();
  }

  /** A staged encoder's first keyframe reached the feed: it is the stream now; the one before is stopped. */
  #taken(entry: Run): void {
    const before = this.#current;
    this.#current = entry;
    this.opts.onCurrent?.(entry.run.legs);
    entry.leg = undefined;
    if (this.#staged === entry) this.#staged = undefined;
    if (before && before !== entry) {
      // replaced, not failed: its end means nothing
      before.abandoned = true;
      void before.run.stop();
    }
    this.#announce(entry);
    this.#swapIfNeeded();
  }

  /** A source's encoder is the stream: the destinations are told, and the slate's time stops running. */
  #announce(entry: Run): void {
    if (entry.kind !== 'source') return;
    this.#retryMs = RETRY_FIRST_MS;
    if (this.#current !== entry || this.#announced === 'live') return;
    if (this.#announced === 'slate') this.#sourceFed = true;
    this.#announced = 'live';
    this.#slateTimer?.clear();
    this.#slateTimer = undefined;
    this.opts.emit({ type: 'source', state: 'live' });
  }

  /** A source that is not `listen`, lost: its encoder is started again, staged, until one takes over. */
  #retryLater(): void {
    if (this.#listen || this.#stopping || this.#retryTimer) return;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      if (this.#stopping || this.#current?.kind === 'source') return;
      // the slate is still starting (or a retry is under way): the source is tried once that is settled
      if (this.#staged) return this.#retryLater();
      this.#start('source');
    }, this.#retryMs);
    this.#retryMs = Math.min(RETRY_LONGEST_MS, this.#retryMs * 2);
  }

  /** The source has gone: the slate goes on (or the stream ends, with no slate time). Said once per loss. */
  #lost(reason: string): void {
    if (this.#stopping || this.#publisher) return;
    this.#retryLater();
    if (this.#announced === 'slate') return;
    this.#announced = 'slate';
    this.opts.emit({ type: 'source', state: 'slate', reason });
    if (this.opts.slateTimeoutMs === 0) {
      this.#sourceLost = true;
      return this.#stop();
    }
    this.#slateTimer?.clear();
    this.#slateTimer = setLongTimeout(() => {
      this.#sourceLost = true;
      this.#stop();
    }, this.opts.slateTimeoutMs);
    if (this.#staged?.kind !== 'slate' && this.#current?.kind !== 'slate') this.#start('slate');
  }

  #exited(entry: Run, exit: FfmpegExit): void {
    if (this.#staged === entry) this.#staged = undefined;
    if (this.#stopping) {
      if (!this.#current?.run.running && !this.#staged?.run.running) this.#end();
      return;
    }
    if (entry.abandoned) return;
    const reason = lossReason(entry.run, exit);
    if (entry.kind === 'slate') {
      if (this.#current !== entry && this.#current?.kind === 'source') return;
      // a slate that cannot run fails the stream (a file ffmpeg cannot loop); one that ran is started again
      if (Date.now() - entry.startedAt < SLATE_MIN_RUN_MS) return this.#fail(entry, exit);
      if (this.#current === entry && !this.#staged) this.#start('slate');
      return;
    }
    if (entry.publisher) {
      // an ingest's encoder ended (failed, stalled, never took over) with its publisher still there: the
      // publisher is cut off, saying why, and may publish again; the slate goes on meanwhile
      if (entry.publisher === this.#publisher && (this.#current === entry || !this.#current?.publisher)) {
        entry.publisher.close(reason);
      }
      return;
    }
    if (this.#current !== entry) {
      // a retry that did not take over: another, later; a bitrate switch that failed: the rate stays
      if (this.#current?.kind !== 'source') return this.#retryLater();
      this.#videoKbps = this.#current.kbps;
      this.#x264Steps = this.#current.steps;
      this.opts.emit({ type: 'warning', message: `could not switch the encoder (${reason}): staying as it is` });
      return;
    }
    // a URL, camera or screen that never gave a frame is not lost but wrong (a typo, no such device): it fails
    // the stream as it always did, rather than putting a slate on air for minutes
    if (!this.#sourceFed && this.opts.feed.lastMediaAt === 0) return this.#fail(entry, exit);
    this.#lost(reason);
  }

  #fail(entry: Run, exit: FfmpegExit): void {
    this.#lastExit = exit;
    this.#lastError = entry.run.lastError;
    this.#failed = true;
    this.#stop();
  }

  #checkProgress(): void {
    const current = this.#current;
    if (!current || this.#stopping || !current.run.running) return;
    const fedAt = this.opts.feed.lastMediaAt;
    if (current.kind === 'source' && fedAt > 0) {
      this.#sourceFed = true;
      const silent = this.#silence.judge(fedAt, performance.now());
      // while a swap is staged (bitrate, x264 speed) two encoders share the CPU and the current one may pause: not a
      // lost source (the watchdog still ends a real stall)
      const swapping = this.#staged?.kind === 'source';
      if (silent && !this.#listen && !swapping) return this.#lost(`no frames from the source for ${silent} s`);
    }
    if (Date.now() - current.run.lastProgressAt <= this.opts.watchdogMs) return;
    const whose = current.kind === 'slate' ? "slate's " : '';
    const seconds = Math.round(this.opts.watchdogMs / 1000);
    this.opts.emit({ type: 'warning', message: `the ${whose}encoder made no progress for ${seconds} s: stopping it` });
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
    if (this.#staged) this.#abandon(this.#staged);
    if (!this.#current?.run.running) return this.#end();
    void this.#current.run.stop();
  }

  #end(): void {
    this.#finish();
  }
}
