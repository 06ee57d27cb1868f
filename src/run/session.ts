import type { Readable } from 'node:stream';
import { encoderOf } from '../ffmpeg/argv.js';
import type { Progress } from '../ffmpeg/progress.js';
import type { IngestServer } from '../ingest/server.js';
import type { TlsPolicy } from '../net/tls-policy.js';
import type { Plan } from '../plan/plan.js';
import { describeSource } from '../plan/source.js';
import { redact } from '../secret.js';
import type { Counts } from '../source/machine.js';
import { encoderSwappable, slateCoversLoss } from '../source/setup.js';
import { RequestRefused } from '../errors.js';
import { startSource } from '../source/stream-source.js';
import type { RetryPolicy } from '../state/backoff.js';
import { type BitrateChange, BitrateGovernor } from '../adapt/bitrate.js';
import { DestinationBoard } from '../board/board.js';
import { EncoderPace } from '../adapt/encoder-pace.js';
import type { Emit, RunEvent, SourceStatus } from './events.js';
import { exitCodeFor } from './exit-code.js';
import { type Rehearsal, reportLocal } from './local-report.js';
import { LocalServer } from './local-server.js';
import type { Recorder } from './recorder.js';

/** How often the bitrate governor reads the destinations' links. */
const GOVERNOR_TICK_MS = 500;

export interface SessionOptions {
  plan: Plan;
  ffmpeg: string;
  ffprobe: string;
  verbose: boolean;
  emit: Emit;
  retry: RetryPolicy;
  tls: TlsPolicy;
  /** `--record`: the file is created before the session starts. */
  recorder?: Recorder;
  /** Aborting stops the stream gracefully (Ctrl-C, SIGTERM, SIGHUP). */
  signal: AbortSignal;
  /** A rehearsal: what the embedded server received is checked against these platforms' rules. */
  rehearse?: Rehearsal;
  /** An encoder that makes no progress for this long is stuck. */
  watchdogMs: number;
  /** Each call makes every waiting destination retry now (SIGUSR1). */
  onRetryNow?: (handler: () => void) => void;
  /** `--source listen`: the server encoders publish to (listening already). */
  ingest?: IngestServer;
  /** The running stream, once its destinations exist: for the control API. */
  onLive?: (live: LiveSession) => void;
}

/** A running stream as the control API sees it: its destinations, its source and the encoder's latest figures. */
export interface LiveSession {
  board: DestinationBoard;
  source: () => SourceStatus;
  encoder: () => Progress | undefined;
  /** Stream made per second over the last 10 s (null until 10 s have passed), and whether that is too slow. */
  pace: () => { realtime: number | null; slow: boolean };
  /** Encoders restarted as stuck, slates played, bitrate and speed swaps. */
  counts: () => Counts;
  /**
   * An operator's ceiling on the video bitrate (undefined: none, the uplink's to follow again): the encoder is
   * swapped for one at it when above. Refused where the encoder cannot be swapped while streaming.
   */
  bitrate: (kbps: number | undefined) => { kbps: number; previousKbps: number; ceilingKbps: number | null };
}

export type SessionSummary = Omit<Extract<RunEvent, { type: 'summary' }>, 'type'>;

/**
 * Runs one stream to the end and returns its summary (with the exit code); the caller emits it last, once
 * everything else (hooks) is done. The only place that starts the pipeline: the embedded server if a destination
 * is `local`, the destinations' relays, the source (its encoders, the slate, an ingest's publishers); then stops
 * them in the reverse order.
 */
export async function runSession(opts: SessionOptions): Promise<SessionSummary> {
  let source: SourceStatus = { state: 'live', reason: null, since: new Date().toISOString() };
  // what the destinations get, for the status: the latest `source` event
  const outer = opts.emit;
  const emit: Emit = (e) => {
    if (e.type === 'source') source = { state: e.state, reason: e.reason ?? null, since: new Date().toISOString() };
    outer(e);
  };
  opts = { ...opts, emit };
  let plan = opts.plan;
  const locals = plan.destinations.filter((d) => d.kind === 'local');
  const local = locals.length > 0 ? new LocalServer(new Set(locals.map((d) => d.key.reveal()))) : undefined;
  try {
    if (local) {
      await local.start();
      const port = local.port;
      plan = {
        ...plan,
        destinations: plan.destinations.map((d) =>
          d.kind === 'local' ? { ...d, endpoint: { ...d.endpoint, port } } : d,
        ),
      };
    }
    let fault = (_reason: string): void => {};
    const board = new DestinationBoard(plan, opts, emit, (reason) => fault(reason));
    opts.onRetryNow?.(() => board.retryNow());
    // once a stop is asked for, the control API can no longer add, remove, pause or resume
    opts.signal.addEventListener('abort', () => board.close(), { once: true });
    let latest: Progress | undefined;
    const swappable = encoderSwappable(plan);
    // the encoder's pace; x264 stepped faster when the machine cannot carry it (sources whose encoder can be swapped)
    const pace = new EncoderPace(plan, swappable, Date.now());
    const governor =
      plan.adaptiveBitrate && swappable
        ? new BitrateGovernor(plan.video.kbps, plan.audio.kbps, Date.now(), plan.bitrateUpAfterMs)
        : undefined;
    emit(startEvent(plan, opts.ffmpeg));
    const { supervisor, done } = startSource({
      ...opts,
      plan,
      feed: board.feed,
      onDestinations: () => board.start(),
      // --record: each encoder that becomes the stream records on (a new file each time)
      onCurrent: (legs: Readable[]) => {
        const leg = legs[board.feed.size];
        if (leg) opts.recorder?.attach(leg);
      },
      onProgress: (p) => {
        const stats = board.stats(p);
        latest = { ...p, bitrateKbps: stats.bitrateKbps };
        emit(stats);
        const at = Date.now();
        const steps = (n: number): void => supervisor.dispatch({ type: 'speed', steps: n, at });
        for (const e of pace.sample(at, p.outTimeMs, steps)) emit(e);
      },
    });
    const stepTo = (change: BitrateChange, at: number): void => {
      supervisor.dispatch({ type: 'bitrate', kbps: change.kbps, at });
      emit({ type: 'bitrate', ...change });
    };
    // twice a second the governor reads every destination's link: a dip is absorbed by the queues while it steps
    const follow =
      governor &&
      setInterval(() => {
        const at = Date.now();
        // a swap that failed left the encoder at its rate: the governor goes on from what is encoded
        governor.follow(supervisor.state.kbps);
        const encoded = supervisor.state.current?.kbps ?? supervisor.state.kbps;
        const change = governor.sample(at, board.delivery(at), encoded);
        const notice = governor.takeNotice();
        if (notice) emit({ type: 'warning', message: notice });
        if (change) stepTo(change, at);
      }, GOVERNOR_TICK_MS);
    fault = (reason) => supervisor.dispatch({ type: 'fault', reason, at: Date.now() });
    const ceiling = (kbps: number | undefined): ReturnType<LiveSession['bitrate']> => {
      if (!swappable) throw new RequestRefused(409, `the bitrate cannot change while streaming ${cannotSwap(plan)}`);
      if (board.closing) throw new RequestRefused(409, 'the stream is stopping');
      const at = Date.now();
      const previousKbps = supervisor.state.kbps;
      const cap = kbps === undefined ? undefined : Math.min(kbps, plan.video.kbps);
      const target = cap ?? plan.video.kbps;
      const change = governor
        ? governor.cap(cap, at)
        : target === previousKbps
          ? undefined
          : { kbps: target, previousKbps, reason: 'an operator set it (rtmpush bitrate)' };
      if (change) stepTo(change, at);
      return { kbps: supervisor.state.kbps, previousKbps, ceilingKbps: cap ?? null };
    };
    opts.onLive?.({
      board,
      source: () => source,
      encoder: () => latest,
      pace: () => pace.status,
      counts: () => supervisor.counts,
      bitrate: ceiling,
    });
    const outcome = await done.finally(() => clearInterval(follow));
    const { published } = outcome;
    // What the encoder wrote last is read and sent; then each relay unpublishes cleanly.
    await board.feed.drain();
    if (published) await board.stop();
    await opts.recorder?.close();
    if (outcome.failed) {
      const { exitCode, signal } = outcome.exit;
      const detail = outcome.lastError ? `: ${outcome.lastError}` : '';
      emit({ type: 'error', code: 'encoder-failed', message: `ffmpeg exited with ${exitCode ?? signal}${detail}` });
    }
    const destinations = published ? board.finals(Date.now()) : unstarted(board, emit);
    const finals = Object.values(destinations).map((d) => d.finalState);
    if (outcome.sourceLost) {
      const slate = plan.slate?.timeoutMs ? `after ${seconds(plan.slate.timeoutMs)} of slate` : 'at once';
      emit({ type: 'error', code: 'source-lost', message: `the source was lost: the stream ended ${slate}` });
    }
    const neverLive = !outcome.failed && Object.values(destinations).every((d) => d.liveMs === 0);
    if (neverLive)
      emit({
        type: 'error',
        code: 'never-live',
        message: published ? 'no destination ever went live' : 'no encoder published: no destination went live',
      });
    // What the embedded server recorded is on disk once it has stopped.
    await local?.stop();
    const received =
      local && published
        ? await reportLocal(local, plan, {
            ffprobe: opts.ffprobe,
            emit,
            ...(opts.rehearse ? { rehearse: opts.rehearse } : {}),
            swaps: supervisor.counts.swaps,
          })
        : 'ok';
    const exitCode = exitCodeFor({
      command: 'start',
      encoderFailed: outcome.failed,
      sourceLost: outcome.sourceLost,
      nothingReceived: received === 'nothing',
      breaksRules: received === 'breaks-rules',
      recordFailed: Boolean(opts.recorder?.failure),
      neverLive,
      destinations: finals,
    });
    const record = opts.recorder
      ? { record: { files: opts.recorder.files, ...(opts.recorder.failure ? { failed: opts.recorder.failure } : {}) } }
      : {};
    return { exitCode, destinations, ...record };
  } finally {
    await local?.stop();
    local?.cleanup();
  }
}
/** The destinations of a stream that never started (no encoder published): each one stopped, as it was left. */
function unstarted(board: DestinationBoard, emit: Emit): SessionSummary['destinations'] {
  const reason = 'no encoder published';
  const out: SessionSummary['destinations'] = {};
  for (const { label } of board.status()) {
    out[label] = { finalState: 'stopped', liveMs: 0, reconnects: 0, reason };
    emit({ type: 'state', destination: label, state: 'stopped', reason });
  }
  return out;
}

/** Why this stream's encoder cannot be swapped for one at another bitrate, as the user reads it. */
function cannotSwap(plan: Plan): string {
  if (plan.copy) return 'with --copy (the encoder’s stream goes out as it is: set its bitrate in the encoder)';
  if (plan.source.kind === 'file') return 'from a file that is not a regular file (a FIFO or a device is read once)';
  if (!slateCoversLoss(plan))
    return `from ${plan.source.kind === 'listen' ? 'an ingest' : `a ${plan.source.kind} source`} without a slate`;
  return `from a ${plan.source.kind} source (it cannot be opened twice to swap its encoder)`;
}

/** 3 s, 90 s, 10 min, 1.5 h: a span as people say it. */
function seconds(ms: number): string {
  const s = ms / 1000;
  if (s < 120) return `${Math.round(s)} s`;
  return s < 7200 ? `${Math.round(s / 60)} min` : `${Math.round(s / 360) / 10} h`;
}

function startEvent(plan: Plan, ffmpeg: string): RunEvent {
  const { video, audio } = plan;
  // --copy: the encoder's stream goes out as it is (a `copy` event says what it is once it publishes)
  const copied = 'as the encoder sends it (copied, not encoded; judged when it publishes)';
  return {
    type: 'start',
    preset: plan.preset,
    source: redact(describeSource(plan.source)),
    video: plan.copy
      ? `H.264 ${copied}`
      : `${video.width}x${video.height}@${video.fps} H.264 ${video.kbps} kbps (${encoderOf(video)}), ` +
        `keyframe every ${video.keyintSeconds} s`,
    audio: plan.copy
      ? `AAC ${copied}`
      : `AAC ${audio.kbps} kbps ${audio.sampleRate} Hz ${audio.channels === 2 ? 'stereo' : 'mono'}`,
    bitrate: plan.bitrate.text,
    destinations: plan.destinations.map((d) => d.label),
    encodes: plan.encodes.map((e) => ({
      id: e.id,
      preset: e.preset,
      width: e.video.width,
      height: e.video.height,
      fps: e.video.fps,
      kbps: e.video.kbps,
      audioKbps: e.audio.kbps,
      encoder: plan.copy ? 'copy' : e.video.encoder,
      destinations: e.destinations,
    })),
    ffmpeg,
    notes: [...plan.notes],
  };
}
