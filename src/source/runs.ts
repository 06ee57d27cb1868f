import { EncoderRun } from '../encoder/encoder-run.js';
import type { SourceRun } from '../encoder/run.js';
import { teeLegs } from '../ffmpeg/argv.js';
import type { Progress } from '../ffmpeg/progress.js';
import type { CopiedStream } from '../ingest/copy-check.js';
import type { Publishers } from '../ingest/publishers.js';
import { mapEncodes, type Plan } from '../plan/plan.js';
import type { RunRef } from './machine.js';
import { slatePlanFor, withVideoKbps, withX264Steps } from './plan-variants.js';
import type { RunContext } from './supervisor.js';

/** How long a new encoder of a file takes to give its first frame: starting, seeking, x264 looking ahead (~1.3 s). */
const SWAP_LEAD_MS = 300;

export interface RunFactoryOptions {
  plan: Plan;
  /** The slate's picture at a size: `--slate FILE`, or rtmpush's card drawn at it. */
  slatePath: (width: number, height: number) => string;
  ffmpeg: string;
  /** Each line ffmpeg logs, keys redacted (`--verbose`). */
  onLog?: (line: string) => void;
  /** The stream's progress: the current run's. */
  onProgress: (p: Progress) => void;
}

/**
 * Makes the runs the source machine asks for. The source's encoder: the plan at the bitrate and x264 speed wanted
 * now (an ingest's reading its publisher, with or without its audio); under `--copy`, the publisher's stream as it
 * is. The slate's: the same encode (so its parameter sets are the source's) from the slate's picture, its first
 * frame out as soon as it can.
 */
export class RunFactory {
  /** `--copy`: the slate is encoded as the publisher's stream is (size, frame rate, keyframes, bitrate). */
  #copied: CopiedStream | undefined;
  /** `listen`: the publishers whose media the source's encoders read. */
  publishers: Publishers | undefined;
  /** A file: where the stream's encoder is in it (where it started, how far it has encoded, when it said so). */
  #position = { startMs: 0, outTimeMs: 0, at: 0 };

  constructor(private readonly opts: RunFactoryOptions) {}

  /** `--copy`: what the publisher sends, accepted (the slate follows it). */
  accepted(stream: CopiedStream): void {
    this.#copied = stream;
  }

  make(ref: RunRef, context: RunContext): SourceRun {
    const { opts } = this;
    const plan = ref.kind === 'source' && opts.plan.copy ? opts.plan : this.#planFor(ref, context.durationMs);
    const startMs = plan.source.kind === 'file' ? (plan.source.startMs ?? 0) : 0;
    const onProgress = (p: Progress): void => {
      if (!context.isCurrent()) return;
      if (ref.kind === 'source' && p.outTimeMs !== null)
        this.#position = { startMs, outTimeMs: p.outTimeMs, at: performance.now() };
      opts.onProgress(p);
    };
    if (ref.kind === 'source' && opts.plan.copy) {
      const run = this.publishers?.copyRun(ref.publisher ?? 0);
      if (!run) throw new Error(`no accepted stream from publisher ${ref.publisher}`);
      run.onProgress = onProgress;
      return run;
    }
    const run = new EncoderRun(plan, teeLegs(plan), {
      ffmpeg: opts.ffmpeg,
      ...(opts.onLog ? { onLog: opts.onLog } : {}),
      onProgress,
    });
    if (ref.publisher !== undefined) this.publishers?.feed(ref.publisher, run);
    return run;
  }

  #planFor(ref: RunRef, durationMs: number | undefined): Plan {
    const { plan } = this.opts;
    let base: Plan;
    if (ref.kind === 'source') {
      let source = plan.source.kind === 'listen' ? { ...plan.source, audio: ref.audio ?? true } : plan.source;
      if (source.kind === 'file' && ref.swap) source = { ...source, startMs: this.#fileAt(source) };
      base = { ...plan, source };
    } else base = this.#slatePlan();
    // --duration is the supervisor's to keep (ffmpeg's own -t only where no slate covers)
    let run = withVideoKbps({ ...base, durationMs }, ref.kbps);
    if (ref.steps) run = withX264Steps(run, ref.steps);
    if (ref.kind === 'source' || run.source.kind !== 'slate') return run;
    // the slate's first frame out as soon as it can (the same parameter sets: see lowDelay), its picture drawn
    // at its size; rtmpush's card is shown whole in every encode's frame (a vertical one would crop its words)
    const card = !plan.slate?.path;
    const path = this.opts.slatePath(run.video.width, run.video.height);
    return mapEncodes({ ...run, source: { ...run.source, path } }, (e) => ({
      ...e,
      video: { ...e.video, lowDelay: true, ...(card ? { fit: 'pad' as const } : {}) },
    }));
  }

  /**
   * Where in the file a swap's new encoder starts: where the stream's encoder is now, plus the time a new encoder
   * takes to give its first frame (the old one goes on meanwhile); a looped file's within its length.
   */
  #fileAt(source: { loop: boolean; durationS?: number }): number {
    const p = this.#position;
    const now = p.startMs + p.outTimeMs + (p.at ? performance.now() - p.at : 0) + SWAP_LEAD_MS;
    const lengthMs = (source.durationS ?? 0) * 1000;
    return Math.round(source.loop && lengthMs > 0 ? now % lengthMs : now);
  }

  #slatePlan(): Plan {
    const { plan } = this.opts;
    const slate = plan.slate ?? { image: true, timeoutMs: 0 };
    const base: Plan = { ...plan, source: { kind: 'slate', path: slate.path ?? '', image: slate.image } };
    return this.#copied ? slatePlanFor(base, this.#copied) : base;
  }
}
