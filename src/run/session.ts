import { buildFfmpegArgv, readsStdin, slaveTargets } from '../ffmpeg/argv.js';
import { LogClassifier } from '../ffmpeg/log.js';
import { ProgressParser } from '../ffmpeg/progress.js';
import { describeSource } from '../plan/source.js';
import type { Plan } from '../plan/plan.js';
import { checkReceived } from '../probe/summary.js';
import { redact } from '../secret.js';
import { initialState, liveMsAt, nextState, type DestinationEvent, type DestinationState } from '../state/destination.js';
import type { Emit, RunEvent } from './events.js';
import { FfmpegProcess } from './ffmpeg-process.js';
import { probeReceived } from './ffprobe.js';
import { LocalServer } from './local-server.js';

export interface SessionOptions {
  plan: Plan;
  ffmpeg: string;
  ffprobe: string;
  verbose: boolean;
  emit: Emit;
  /** Aborting stops the stream gracefully (Ctrl-C, SIGTERM). */
  signal: AbortSignal;
}

const STOP_SLACK_MS = 15_000;

/** Runs one stream to the end and returns the exit code. The only place that starts the pipeline. */
export async function runSession(opts: SessionOptions): Promise<number> {
  const { emit } = opts;
  let plan = opts.plan;
  const needsLocal = plan.destinations.some((d) => d.kind === 'local');
  const local = needsLocal ? new LocalServer() : undefined;
  try {
    if (local) {
      await local.start();
      plan = { ...plan, destinations: plan.destinations.map((d) => (d.kind === 'local' ? { ...d, endpoint: { ...d.endpoint, port: local.port } } : d)) };
    }
    const result = await stream(plan, opts);
    const received = local ? await reportLocal(local, plan, opts) : true;
    // A local run that recorded nothing did not work, whatever ffmpeg said.
    const exitCode = result.exitCode === 0 && !received ? 1 : result.exitCode;
    emit({ type: 'summary', exitCode, destinations: result.destinations });
    return exitCode;
  } finally {
    await local?.stop();
    local?.cleanup();
  }
}

type Summary = Extract<RunEvent, { type: 'summary' }>;

async function stream(plan: Plan, opts: SessionOptions): Promise<Omit<Summary, 'type'>> {
  const { emit } = opts;
  const targets = slaveTargets(plan);
  const argv = buildFfmpegArgv(plan, targets);
  const started = Date.now();
  const states = new Map<string, DestinationState>(plan.destinations.map((d) => [d.label, initialState(started)]));
  const apply = (label: string, event: DestinationEvent): void => {
    const before = states.get(label);
    if (!before) return;
    const after = nextState(before, event);
    states.set(label, after);
    if (after.name !== before.name) {
      emit({ type: 'state', destination: label, state: after.name, reason: after.reason, ...(after.name === 'reconnecting' ? { attempt: after.attempt } : {}) });
    }
  };

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

  const progress = new ProgressParser();
  // The log is matched after redaction, so the URLs are too.
  const classifier = new LogClassifier(targets.map((t) => ({ label: t.label, url: redact(t.url) })));
  const lastErrors: string[] = [];
  let lastOutTime = -1;
  const proc = new FfmpegProcess(
    opts.ffmpeg,
    argv,
    {
      onProgressLine: (line) => {
        const p = progress.push(line);
        if (!p) return;
        emit({ type: 'stats', fps: p.fps, speed: p.speed, bitrateKbps: p.bitrateKbps, droppedFrames: p.droppedFrames, outTimeMs: p.outTimeMs, frame: p.frame });
        if (p.outTimeMs > lastOutTime) {
          lastOutTime = p.outTimeMs;
          for (const label of states.keys()) apply(label, { type: 'encoder-progress', at: Date.now() });
        }
      },
      onLogLine: (raw) => {
        const line = redact(raw);
        if (opts.verbose) emit({ type: 'log', line });
        const ev = classifier.classify(line);
        if (ev.kind === 'leg-error') apply(ev.label, { type: 'leg-error', at: Date.now(), reason: ev.reason });
        else if (ev.kind === 'leg-recovered') apply(ev.label, { type: 'leg-recovered', at: Date.now() });
        else if (ev.kind === 'error') {
          lastErrors.push(ev.text);
          if (lastErrors.length > 5) lastErrors.shift();
        }
      },
    },
    { stdinIsSource: readsStdin(plan) },
  );

  let stoppedByUs = false;
  const stop = (): void => {
    stoppedByUs = true;
    void proc.stop();
  };
  opts.signal.addEventListener('abort', stop, { once: true });
  const safety = plan.durationMs ? setTimeout(stop, plan.durationMs + STOP_SLACK_MS) : undefined;
  const exit = await proc.exited;
  clearTimeout(safety);
  opts.signal.removeEventListener('abort', stop);

  const ended = Date.now();
  for (const label of states.keys()) apply(label, { type: 'stop', at: ended });
  const encoderFailed = !stoppedByUs && exit.exitCode !== 0;
  if (encoderFailed) {
    const detail = lastErrors.length ? `: ${lastErrors[lastErrors.length - 1]}` : '';
    emit({ type: 'error', code: 'encoder-failed', message: `ffmpeg exited with ${exit.exitCode ?? exit.signal}${detail}` });
  }
  const finals = [...states.values()];
  const everLive = finals.some((s) => s.everLive);
  let exitCode = 0;
  if (encoderFailed || !everLive) exitCode = 1;
  else if (finals.some((s) => s.name === 'failed' || s.name === 'rejected')) exitCode = 3;
  if (!everLive && !encoderFailed) emit({ type: 'error', code: 'never-live', message: 'no destination ever went live' });

  const destinations: Summary['destinations'] = {};
  for (const [label, s] of states) {
    destinations[label] = { finalState: s.name, liveMs: liveMsAt(s, ended), reconnects: s.reconnects, ...(s.reason ? { reason: s.reason } : {}) };
  }
  return { exitCode, destinations };
}

/** Reads back what the embedded server recorded; false when it recorded nothing. */
async function reportLocal(local: LocalServer, plan: Plan, opts: SessionOptions): Promise<boolean> {
  let all = true;
  for (const dest of plan.destinations.filter((d) => d.kind === 'local')) {
    const files = local.recordings(`/${dest.endpoint.app}/${dest.key.reveal()}`);
    if (files.length === 0) {
      opts.emit({ type: 'error', code: 'nothing-received', message: `${dest.label}: the embedded server recorded nothing` });
      all = false;
      continue;
    }
    const summary = await probeReceived(opts.ffprobe, files[files.length - 1]!);
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
  }
  return all;
}
