import type { Progress } from '../ffmpeg/progress.js';
import type { TlsPolicy } from '../net/tls-policy.js';
import type { Plan } from '../plan/plan.js';
import { describeSource } from '../plan/source.js';
import { redact } from '../secret.js';
import type { RetryPolicy } from '../state/backoff.js';
import { DestinationBoard } from './board.js';
import { type EncoderOutcome, superviseEncoder } from './encoder.js';
import type { DirectorOutcome } from './source-director.js';
import { adaptive, directed, directSource } from './direct.js';
import { EncoderPace } from './encoder-pace.js';
import { encoderOf } from '../ffmpeg/argv.js';
import type { IngestServer } from '../ingest/server.js';
import { BitrateGovernor } from './bitrate.js';
import type { StatusBody } from '../control/api.js';
import type { Emit, RunEvent } from './events.js';
import { exitCodeFor } from './exit-code.js';
import { reportLocal } from './local-report.js';
import { LocalServer } from './local-server.js';
import type { Recorder } from './recorder.js';
import type { Rehearsal } from './local-report.js';

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
  /** Restart the encoder when it makes no progress for this long. */
  watchdogMs: number;
  /** Each call makes every waiting destination retry now (SIGUSR1). */
  onRetryNow?: (handler: () => void) => void;
  /** `--source listen`: the server encoders publish to (listening already). */
  ingest?: IngestServer;
  /** The running stream, once its destinations exist: for the control API. */
  onLive?: (live: LiveSession) => void;
}

/** A running stream as the control API sees it: its destinations and the encoder's latest figures. */
export interface LiveSession {
  board: DestinationBoard;
  source: () => StatusBody['source'];
  encoder: () => Progress | undefined;
  /** Stream made per second over the last 10 s (null until 10 s have passed), and whether that is too slow. */
  pace: () => { realtime: number | null; slow: boolean };
  restarts: () => number;
}

export type SessionSummary = Omit<Extract<RunEvent, { type: 'summary' }>, 'type'>;

/**
 * Runs one stream to the end and returns its summary (with the exit code); the caller emits it last, once
 * everything else (hooks) is done. The only place that starts the pipeline: the embedded server if a destination
 * is `local`, the destinations' relays, the encoder; then stops them in the reverse order.
 */
export async function runSession(opts: SessionOptions): Promise<SessionSummary> {
  let source: StatusBody['source'] = { state: 'live', reason: null, since: new Date().toISOString() };
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
    let restartEncoder = (_reason: string): void => {};
    const board = new DestinationBoard(plan, opts, emit, (reason) => restartEncoder(reason));
    opts.onRetryNow?.(() => board.retryNow());
    // once a stop is asked for, the control API can no longer add, remove, pause or resume
    opts.signal.addEventListener('abort', () => board.close(), { once: true });
    let latest: Progress | undefined;
    let encoders = 0;
    // the encoder's pace; x264 stepped faster when the machine cannot carry it (sources the director can swap)
    const pace = new EncoderPace(plan, adaptive(plan), Date.now());
    opts.onLive?.({
      board,
      source: () => source,
      encoder: () => latest,
      pace: () => pace.status,
      restarts: () => Math.max(0, encoders - 1),
    });
    emit(startEvent(plan, opts.ffmpeg));
    let governor: BitrateGovernor | undefined;
    let setVideoKbps = (_kbps: number): void => {};
    let setX264Steps = (_steps: number): void => {};
    if (plan.adaptiveBitrate && adaptive(plan))
      governor = new BitrateGovernor(plan.video.kbps, plan.audio.kbps, Date.now(), plan.bitrateUpAfterMs);
    const onProgress = (p: Progress): void => {
      const stats = board.stats(p);
      latest = { ...p, bitrateKbps: stats.bitrateKbps };
      emit(stats);
      for (const e of pace.sample(Date.now(), p.outTimeMs, setX264Steps)) emit(e);
      const change = governor?.sample(Date.now(), board.delivery(stats.destinations ?? {}));
      if (change) {
        setVideoKbps(change.kbps);
        emit({ type: 'bitrate', ...change });
      }
    };
    let encoder: EncoderOutcome & { sourceLost?: boolean };
    if (directed(plan)) {
      encoder = await directSource(plan, {
        ...opts,
        board,
        onProgress,
        onRestarter: (restart) => (restartEncoder = restart),
        onBitrate: (set) => (setVideoKbps = set),
        onSpeed: (set) => (setX264Steps = set),
      });
      encoders = (encoder as DirectorOutcome).encoders;
    } else {
      board.start();
      encoder = await superviseEncoder({
        plan,
        ffmpeg: opts.ffmpeg,
        watchdogMs: opts.watchdogMs,
        verbose: opts.verbose,
        emit,
        signal: opts.signal,
        // The tee's legs: each encode's media (one leg, read once for all its destinations), then the recording's.
        onStart: (legs) => {
          encoders++;
          board.feed.attach(legs);
          if (opts.recorder) opts.recorder.attach(legs[board.feed.size]!);
        },
        onProgress,
        onRestarter: (restart) => {
          restartEncoder = restart;
        },
      });
    }
    // an ingest nobody published to: nothing started, nothing failed (a service stopped while idle is fine)
    const published = !opts.ingest || (encoder as DirectorOutcome).published;
    // What ffmpeg wrote last is read and sent; then each relay unpublishes cleanly.
    await board.feed.drain();
    if (published) await board.stop();
    await opts.recorder?.close();
    if (encoder.failed) {
      const { exitCode, signal } = encoder.exit;
      const detail = encoder.lastError ? `: ${encoder.lastError}` : '';
      emit({ type: 'error', code: 'encoder-failed', message: `ffmpeg exited with ${exitCode ?? signal}${detail}` });
    }
    const destinations = published ? board.finals(Date.now()) : unstarted(board, emit);
    const finals = Object.values(destinations).map((d) => d.finalState);
    if (encoder.sourceLost) {
      const slate = plan.slate?.timeoutMs ? `after ${seconds(plan.slate.timeoutMs)} of slate` : 'at once';
      emit({ type: 'error', code: 'source-lost', message: `the source was lost: the stream ended ${slate}` });
    }
    if (!published) emit({ type: 'warning', message: 'no encoder published: nothing was streamed' });
    if (published && !encoder.failed && Object.values(destinations).every((d) => d.liveMs === 0)) {
      emit({ type: 'error', code: 'never-live', message: 'no destination ever went live' });
    }
    // What the embedded server recorded is on disk once it has stopped.
    await local?.stop();
    const received =
      local && published
        ? await reportLocal(local, plan, { ffprobe: opts.ffprobe, emit, rehearse: opts.rehearse })
        : 'ok';
    const exitCode = exitCodeFor({
      command: 'start',
      encoderFailed: encoder.failed,
      sourceLost: encoder.sourceLost,
      nothingReceived: received === 'nothing',
      breaksRules: received === 'breaks-rules',
      recordFailed: Boolean(opts.recorder?.failure),
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

/** 3 s, 90 s, 10 min, 1.5 h: a span as people say it. */
function seconds(ms: number): string {
  const s = ms / 1000;
  if (s < 120) return `${Math.round(s)} s`;
  return s < 7200 ? `${Math.round(s / 60)} min` : `${Math.round(s / 360) / 10} h`;
}

function startEvent(plan: Plan, ffmpeg: string): RunEvent {
  const { video, audio } = plan;
  return {
    type: 'start',
    preset: plan.preset,
    source: redact(describeSource(plan.source)),
    video:
      `${video.width}x${video.height}@${video.fps} H.264 ${video.kbps} kbps (${encoderOf(video)}), ` +
      `keyframe every ${video.keyintSeconds} s`,
    audio: `AAC ${audio.kbps} kbps ${audio.sampleRate} Hz ${audio.channels === 2 ? 'stereo' : 'mono'}`,
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
      encoder: e.video.encoder,
      destinations: e.destinations,
    })),
    ffmpeg,
    notes: plan.notes,
  };
}
