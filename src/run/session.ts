import { buildFfmpegArgv, readsStdin, slaveTargets, sourceList } from '../ffmpeg/argv.js';
import { ProgressParser, type Progress } from '../ffmpeg/progress.js';
import { describeSource } from '../plan/source.js';
import type { Plan } from '../plan/plan.js';
import { defaultIngest, expectedApp, findPlatform, type Platform } from '../platforms/table.js';
import { platformChecks, type RehearsalFlags } from '../rehearse/rules.js';
import { checkReceived } from '../probe/summary.js';
import { DestinationRelay, type RelayEvent } from '../relay/relay.js';
import { redact } from '../secret.js';
import type { RetryPolicy } from '../state/backoff.js';
import {
  initialState,
  isReportable,
  liveMsAt,
  nextState,
  type DestinationEvent,
  type DestinationState,
} from '../state/destination.js';
import type { DestinationStats, Emit, RunEvent } from './events.js';
import { FfmpegProcess, type FfmpegExit } from './ffmpeg-process.js';
import { probeReceived } from './ffprobe.js';
import { LocalServer } from './local-server.js';
import type { Recorder } from './recorder.js';
import { ThroughputMeter } from './throughput.js';
import type { TlsPolicy } from '../net/tls-policy.js';
import { setLongTimeout } from '../util/timers.js';

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
  /** Aborting stops the stream gracefully (Ctrl-C, SIGTERM). */
  signal: AbortSignal;
  /** A rehearsal: what the embedded server received is checked against these platforms' rules. */
  rehearse?: { platforms: Platform[]; flags: RehearsalFlags };
  /** Restart the encoder when it makes no progress for this long. */
  watchdogMs: number;
  /** Each call makes every waiting destination retry now (SIGUSR1). */
  onRetryNow?: (handler: () => void) => void;
}

const STOP_SLACK_MS = 15_000;
type Summary = Extract<RunEvent, { type: 'summary' }>;

export type SessionSummary = Omit<Summary, 'type'>;

/**
 * Runs one stream to the end and returns its summary (with the exit code); the caller emits it last, once
 * everything else (hooks) is done. The only place that starts the pipeline.
 */
export async function runSession(opts: SessionOptions): Promise<SessionSummary> {
  let plan = opts.plan;
  const local = plan.destinations.some((d) => d.kind === 'local') ? new LocalServer() : undefined;
  try {
    if (local) {
      await local.start();
      plan = {
        ...plan,
        destinations: plan.destinations.map((d) =>
          d.kind === 'local' ? { ...d, endpoint: { ...d.endpoint, port: local.port } } : d,
        ),
      };
    }
    const result = await stream(plan, opts);
    const received = local ? await reportLocal(local, plan, opts) : 'ok';
    // A local run that recorded nothing did not work, whatever ffmpeg said; a rehearsal that breaks a rule is 3.
    let exitCode = result.exitCode;
    if (exitCode === 0 && received === 'nothing') exitCode = 1;
    else if (exitCode === 0 && received === 'breaks-rules') exitCode = 3;
    const record = opts.recorder
      ? { record: { files: opts.recorder.files, ...(opts.recorder.failure ? { failed: opts.recorder.failure } : {}) } }
      : {};
    return { exitCode, destinations: result.destinations, ...record };
  } finally {
    await local?.stop();
    local?.cleanup();
  }
}

async function stream(plan: Plan, opts: SessionOptions): Promise<Pick<Summary, 'exitCode' | 'destinations'>> {
  const { emit } = opts;
  const states = new Map<string, DestinationState>(plan.destinations.map((d) => [d.label, initialState(Date.now())]));
  const apply = (label: string, event: DestinationEvent): void => {
    const before = states.get(label)!;
    const after = nextState(before, event);
    states.set(label, after);
    if (!isReportable(before, after)) return;
    const retry = after.nextRetryAt
      ? { attempt: after.attempt, delayMs: after.delayMs, nextRetryAt: new Date(after.nextRetryAt).toISOString() }
      : {};
    emit({
      type: 'state',
      destination: label,
      state: after.name,
      ...(after.reason ? { reason: after.reason } : {}),
      ...retry,
    });
  };

  const relays = new Map<string, DestinationRelay>();
  const meters = new Map<string, ThroughputMeter>();
  for (const dest of plan.destinations) {
    const platform = dest.platform ? findPlatform(dest.platform) : undefined;
    const rtmps = platform?.ingest.find((i) => i.protocol === 'rtmps')?.url;
    const relay = new DestinationRelay({
      target: { ...dest.endpoint, key: dest.key },
      retry: opts.retry,
      tls: opts.tls,
      bitrateKbps: plan.video.kbps + plan.audio.kbps,
      hints: {
        expectedApp: platform ? expectedApp(platform) : undefined,
        rtmpsUrl: rtmps ?? (platform ? defaultIngest(platform) : undefined),
      },
      onEvent: (e) => onRelayEvent(dest.label, e),
    });
    relays.set(dest.label, relay);
    meters.set(dest.label, new ThroughputMeter());
  }
  const onRelayEvent = (label: string, e: RelayEvent): void => {
    const at = Date.now();
    switch (e.type) {
      case 'live':
        return apply(label, { type: 'live', at });
      case 'retry':
        return apply(label, {
          type: 'retry',
          at,
          attempt: e.attempt,
          delayMs: e.delayMs,
          nextRetryAt: e.nextRetryAt,
          reason: e.reason,
        });
      case 'rejected':
        return apply(label, {
          type: 'rejected',
          at,
          reason: e.reason,
          final: e.final,
          attempt: e.attempt,
          delayMs: e.delayMs,
          nextRetryAt: e.nextRetryAt,
        });
      case 'failed':
        return apply(label, { type: 'failed', at, reason: e.reason });
      case 'leg-fault':
        return emit({
          type: 'warning',
          message: `${label}: the encoder's leg cannot be read (${e.reason}); this destination gets nothing until the encoder restarts`,
        });
      case 'congested': {
        if (!e.congested) return;
        const delivered = meters.get(label)?.kbps();
        const figure = delivered ? ` (${delivered} kbps delivered of ${plan.video.kbps + plan.audio.kbps} kbps)` : '';
        emit({
          type: 'warning',
          message: `${label}: congested: the destination is not taking the stream as fast as it is made${figure}; dropping to the next keyframe`,
        });
        return;
      }
    }
  };

  for (const relay of relays.values()) relay.start();
  opts.onRetryNow?.(() => {
    for (const r of relays.values()) r.retryNow();
  });

  emit({
    type: 'start',
    preset: plan.preset,
    source: redact(describeSource(plan.source)),
    video: `${plan.video.width}x${plan.video.height}@${plan.video.fps} H.264 ${plan.video.kbps} kbps, keyframe every ${plan.video.keyintSeconds} s`,
    audio: `AAC ${plan.audio.kbps} kbps ${plan.audio.sampleRate} Hz ${plan.audio.channels === 2 ? 'stereo' : 'mono'}`,
    bitrate: plan.bitrate.text,
    destinations: plan.destinations.map((d) => d.label),
    ffmpeg: opts.ffmpeg,
    notes: plan.notes,
  });
  for (const d of plan.destinations) emit({ type: 'state', destination: d.label, state: 'connecting' });

  const lastErrors: string[] = [];
  const targets = slaveTargets(plan);
  const list = sourceList(plan);
  const onProgress = (p: Progress): void => {
    const now = Date.now();
    const destinations: Record<string, DestinationStats> = {};
    for (const [label, relay] of relays) {
      const meter = meters.get(label)!;
      const s = states.get(label)!;
      // Acked counts are sampled at the instant they arrived: 64 KiB steps would otherwise swing a slow link's figure.
      if (relay.everAcked) meter.add(relay.lastAckAt, relay.ackedBytes);
      else meter.add(now, relay.sentBytes);
      destinations[label] = {
        state: s.name,
        deliveredKbps: meter.kbps(),
        congested: relay.congested,
        droppedFrames: relay.droppedFrames,
        liveMs: liveMsAt(s, now),
        reconnects: s.reconnects,
      };
    }
    emit({
      type: 'stats',
      fps: p.fps,
      speed: p.speed,
      bitrateKbps: p.bitrateKbps,
      droppedFrames: p.droppedFrames,
      outTimeMs: p.outTimeMs,
      frame: p.frame,
      destinations,
    });
  };
  const onLogLine = (raw: string): void => {
    const line = redact(raw);
    if (opts.verbose) emit({ type: 'log', line });
    if (/\[(error|fatal|panic)\]/.test(line)) {
      lastErrors.push(line);
      if (lastErrors.length > 5) lastErrors.shift();
    }
  };

  const startedAt = Date.now();
  let proc: FfmpegProcess | undefined;
  let stoppedByUs = false;
  const stop = (): void => {
    stoppedByUs = true;
    void proc?.stop();
  };
  opts.signal.addEventListener('abort', stop, { once: true });
  // A stop asked for while the pipeline was being set up (the listener above would never hear it).
  if (opts.signal.aborted) stop();
  const safety = plan.durationMs ? setLongTimeout(stop, plan.durationMs + STOP_SLACK_MS) : undefined;
  let exit: FfmpegExit;
  let stalled = false;
  for (let restarts = 0; ; restarts++) {
    // After a restart only what is left of --duration remains to stream.
    const remaining = plan.durationMs === undefined ? undefined : plan.durationMs - (Date.now() - startedAt);
    const progress = new ProgressParser();
    let lastOut = -1;
    let lastProgressAt = Date.now();
    stalled = false;
    const current = new FfmpegProcess(
      opts.ffmpeg,
      buildFfmpegArgv(
        restarts === 0 || remaining === undefined ? plan : { ...plan, durationMs: Math.max(1000, remaining) },
        targets,
      ),
      {
        onProgressLine: (line) => {
          const p = progress.push(line);
          if (!p) return;
          if (p.outTimeMs > lastOut) {
            lastOut = p.outTimeMs;
            lastProgressAt = Date.now();
          }
          onProgress(p);
        },
        onLogLine,
      },
      { stdinIsSource: readsStdin(plan), pipes: targets.length + (list ? 1 : 0) },
    );
    // Each leg's pipe goes to its destination's relay, in the order of the tee's outputs; the last to the recorder.
    for (const [i, relay] of [...relays.values()].entries()) relay.attach(current.pipes[i]!);
    if (opts.recorder) opts.recorder.attach(current.pipes[relays.size]!);
    // A private source URL reaches ffmpeg on the pipe after the legs': nothing on disk, nothing in `ps`.
    if (list) current.pipes[targets.length]!.end(list);
    proc = current;
    if (stoppedByUs) void current.stop();
    // The watchdog: an encoder that makes no progress is killed and started again.
    const watchdog = setInterval(() => {
      if (stoppedByUs || Date.now() - lastProgressAt <= opts.watchdogMs) return;
      stalled = true;
      emit({
        type: 'warning',
        message: `the encoder made no progress for ${Math.round(opts.watchdogMs / 1000)} s: restarting it`,
      });
      current.kill();
    }, 1000);
    exit = await current.exited;
    clearInterval(watchdog);
    if (!stalled || stoppedByUs || readsStdin(plan)) break;
    if (remaining !== undefined && plan.durationMs! - (Date.now() - startedAt) < 1000) break;
  }
  safety?.clear();
  opts.signal.removeEventListener('abort', stop);

  // ffmpeg has flushed its legs into the relays; now each relay unpublishes cleanly.
  await Promise.all([...relays.values()].map((r) => r.stop()));
  await opts.recorder?.close();
  const ended = Date.now();
  for (const label of states.keys()) apply(label, { type: 'stop', at: ended });
  const encoderFailed = !stoppedByUs && (exit.exitCode !== 0 || stalled);
  if (encoderFailed) {
    const detail = lastErrors.length ? `: ${lastErrors[lastErrors.length - 1]}` : '';
    emit({
      type: 'error',
      code: 'encoder-failed',
      message: `ffmpeg exited with ${exit.exitCode ?? exit.signal}${detail}`,
    });
  }
  const finals = [...states.values()];
  const everLive = finals.some((s) => s.everLive);
  let exitCode = 0;
  if (encoderFailed || !everLive) exitCode = 1;
  else if (finals.some((s) => s.name === 'failed' || s.name === 'rejected') || opts.recorder?.failure) exitCode = 3;
  if (!everLive && !encoderFailed)
    emit({ type: 'error', code: 'never-live', message: 'no destination ever went live' });

  const destinations: Summary['destinations'] = {};
  for (const [label, s] of states) {
    destinations[label] = {
      finalState: s.name,
      liveMs: liveMsAt(s, ended),
      reconnects: s.reconnects,
      ...(s.reason ? { reason: s.reason } : {}),
    };
  }
  return { exitCode, destinations };
}

/** Reads back what the embedded server recorded and, in a rehearsal, checks it against each platform. */
async function reportLocal(
  local: LocalServer,
  plan: Plan,
  opts: SessionOptions,
): Promise<'ok' | 'nothing' | 'breaks-rules'> {
  let outcome: 'ok' | 'nothing' | 'breaks-rules' = 'ok';
  for (const dest of plan.destinations.filter((d) => d.kind === 'local')) {
    const files = local.recordings(`/${dest.endpoint.app}/${dest.key.reveal()}`);
    if (files.length === 0) {
      opts.emit({
        type: 'error',
        code: 'nothing-received',
        message: `${dest.label}: the embedded server recorded nothing`,
      });
      outcome = 'nothing';
      continue;
    }
    let summary: Awaited<ReturnType<typeof probeReceived>>;
    try {
      summary = await probeReceived(opts.ffprobe, files[files.length - 1]!);
    } catch {
      opts.emit({
        type: 'error',
        code: 'nothing-received',
        message: `${dest.label}: what the embedded server recorded cannot be read`,
      });
      outcome = 'nothing';
      continue;
    }
    const checks = checkReceived(summary, {
      width: plan.video.width,
      height: plan.video.height,
      fps: plan.video.fps,
      kbps: plan.video.kbps,
      keyintSeconds: plan.video.keyintSeconds,
      sampleRate: plan.audio.sampleRate,
      channels: plan.audio.channels,
    });
    opts.emit({ type: 'received', destination: dest.label, summary, checks, meetsPreset: checks.every((c) => c.ok) });
    for (const platform of opts.rehearse?.platforms ?? []) {
      const rules = platformChecks(summary, platform, opts.rehearse!.flags);
      const ok = rules.every((c) => c.ok);
      if (!ok && outcome === 'ok') outcome = 'breaks-rules';
      opts.emit({ type: 'rehearsal', platform: platform.id, name: platform.name, ok, checks: rules });
    }
  }
  return outcome;
}
