import type { TlsPolicy } from '../net/tls-policy.js';
import type { Plan } from '../plan/plan.js';
import { describeSource } from '../plan/source.js';
import type { Platform } from '../platforms/table.js';
import type { RehearsalFlags } from '../rehearse/rules.js';
import { redact } from '../secret.js';
import type { RetryPolicy } from '../state/backoff.js';
import { DestinationBoard } from './board.js';
import { superviseEncoder } from './encoder.js';
import type { Emit, RunEvent } from './events.js';
import { exitCodeFor } from './exit-code.js';
import { reportLocal } from './local-report.js';
import { LocalServer } from './local-server.js';
import type { Recorder } from './recorder.js';

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
  rehearse?: { platforms: Platform[]; flags: RehearsalFlags };
  /** Restart the encoder when it makes no progress for this long. */
  watchdogMs: number;
  /** Each call makes every waiting destination retry now (SIGUSR1). */
  onRetryNow?: (handler: () => void) => void;
}

export type SessionSummary = Omit<Extract<RunEvent, { type: 'summary' }>, 'type'>;

/**
 * Runs one stream to the end and returns its summary (with the exit code); the caller emits it last, once
 * everything else (hooks) is done. The only place that starts the pipeline: the embedded server if a destination
 * is `local`, the destinations' relays, the encoder; then stops them in the reverse order.
 */
export async function runSession(opts: SessionOptions): Promise<SessionSummary> {
  const { emit } = opts;
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
    emit(startEvent(plan, opts.ffmpeg));
    board.start();
    const encoder = await superviseEncoder({
      plan,
      ffmpeg: opts.ffmpeg,
      watchdogMs: opts.watchdogMs,
      verbose: opts.verbose,
      emit,
      signal: opts.signal,
      // The legs are in the order of the tee's outputs: the destinations', then the recording's.
      onStart: (legs) => {
        for (const [i, relay] of board.relays.entries()) relay.attach(legs[i]!);
        if (opts.recorder) opts.recorder.attach(legs[board.relays.length]!);
      },
      onProgress: (p) => emit(board.stats(p)),
      onRestarter: (restart) => {
        restartEncoder = restart;
      },
    });
    // ffmpeg has flushed its legs into the relays; now each relay unpublishes cleanly.
    await board.stop();
    await opts.recorder?.close();
    if (encoder.failed) {
      const { exitCode, signal } = encoder.exit;
      const detail = encoder.lastError ? `: ${encoder.lastError}` : '';
      emit({ type: 'error', code: 'encoder-failed', message: `ffmpeg exited with ${exitCode ?? signal}${detail}` });
    }
    const destinations = board.finals(Date.now());
    const finals = Object.values(destinations).map((d) => d.finalState);
    if (!encoder.failed && Object.values(destinations).every((d) => d.liveMs === 0)) {
      emit({ type: 'error', code: 'never-live', message: 'no destination ever went live' });
    }
    // What the embedded server recorded is on disk once it has stopped.
    await local?.stop();
    const received = local
      ? await reportLocal(local, plan, { ffprobe: opts.ffprobe, emit, rehearse: opts.rehearse })
      : 'ok';
    const exitCode = exitCodeFor({
      command: 'start',
      encoderFailed: encoder.failed,
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

function startEvent(plan: Plan, ffmpeg: string): RunEvent {
  const { video, audio } = plan;
  return {
    type: 'start',
    preset: plan.preset,
    source: redact(describeSource(plan.source)),
    video:
      `${video.width}x${video.height}@${video.fps} H.264 ${video.kbps} kbps, ` +
      `keyframe every ${video.keyintSeconds} s`,
    audio: `AAC ${audio.kbps} kbps ${audio.sampleRate} Hz ${audio.channels === 2 ? 'stereo' : 'mono'}`,
    bitrate: plan.bitrate.text,
    destinations: plan.destinations.map((d) => d.label),
    ffmpeg,
    notes: plan.notes,
  };
}
