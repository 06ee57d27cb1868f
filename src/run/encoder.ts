import type { Duplex } from 'node:stream';
import { readsStdin, teeLegs } from '../ffmpeg/argv.js';
import type { Progress } from '../ffmpeg/progress.js';
import type { Plan } from '../plan/plan.js';
import { setLongTimeout } from '../util/timers.js';
import { EncoderRun } from './encoder-run.js';
import type { Emit } from './events.js';
import type { FfmpegExit } from './ffmpeg-process.js';

export interface EncoderOptions {
  plan: Plan;
  ffmpeg: string;
  /** Restart the encoder when it makes no progress for this long. */
  watchdogMs: number;
  verbose: boolean;
  emit: Emit;
  /** Aborting stops the encoder gracefully (Ctrl-C, SIGTERM, SIGHUP). */
  signal: AbortSignal;
  /** Each new encoder's pipes: one per tee leg, in the order of teeLegs(plan). */
  onStart: (legs: Duplex[]) => void;
  onProgress: (p: Progress) => void;
  /** Gets the function that restarts the encoder now (as the watchdog does), with the reason to report. */
  onRestarter?: (restart: (reason: string) => void) => void;
}

export interface EncoderOutcome {
  /** It failed by itself (not stopped by rtmpush): an exit code, or a stall at the end. */
  failed: boolean;
  exit: FfmpegExit;
  /** ffmpeg's last error line, keys redacted. */
  lastError?: string;
}

/** --duration is a bound on ffmpeg (-t); this much later rtmpush stops it itself. */
const STOP_SLACK_MS = 15_000;

/**
 * Runs the stream's encoder to its end: spawns ffmpeg with a pipe per tee leg, reads its progress, restarts it when
 * it stalls (the watchdog; the destinations keep their sessions), and stops it gracefully when asked. The one place
 * an encoder is started, so the place one is swapped for another.
 */
export async function superviseEncoder(opts: EncoderOptions): Promise<EncoderOutcome> {
  const { plan, emit } = opts;
  const targets = teeLegs(plan);
  let lastError: string | undefined;
  const startedAt = Date.now();
  let run: EncoderRun | undefined;
  let stoppedByUs = false;
  const stop = (): void => {
    stoppedByUs = true;
    void run?.stop();
  };
  opts.signal.addEventListener('abort', stop, { once: true });
  // A stop asked for while the pipeline was being set up: the listener above would never hear it.
  if (opts.signal.aborted) stop();
  const safety = plan.durationMs ? setLongTimeout(stop, plan.durationMs + STOP_SLACK_MS) : undefined;
  let exit: FfmpegExit;
  let stalled: boolean;
  for (let restarts = 0; ; restarts++) {
    // After a restart only what is left of --duration remains to stream.
    const remaining = plan.durationMs === undefined ? undefined : plan.durationMs - (Date.now() - startedAt);
    const runPlan =
      restarts === 0 || remaining === undefined ? plan : { ...plan, durationMs: Math.max(1000, remaining) };
    stalled = false;
    const current = new EncoderRun(runPlan, targets, opts);
    opts.onStart(current.legs);
    run = current;
    if (stoppedByUs) void current.stop();
    const restart = (reason: string): void => {
      if (stoppedByUs || stalled) return;
      stalled = true;
      emit({ type: 'warning', message: `${reason}: restarting it` });
      current.kill();
    };
    opts.onRestarter?.(restart);
    // The watchdog: an encoder that makes no progress is killed and started again.
    const watchdog = setInterval(() => {
      if (Date.now() - current.lastProgressAt > opts.watchdogMs) {
        restart(`the encoder made no progress for ${Math.round(opts.watchdogMs / 1000)} s`);
      }
    }, 1000);
    exit = await current.exited;
    clearInterval(watchdog);
    lastError = current.lastError ?? lastError;
    if (!stalled || stoppedByUs || readsStdin(plan)) break;
    if (remaining !== undefined && plan.durationMs! - (Date.now() - startedAt) < 1000) break;
  }
  safety?.clear();
  opts.signal.removeEventListener('abort', stop);
  const failed = !stoppedByUs && (exit.exitCode !== 0 || stalled);
  return { failed, exit, ...(lastError ? { lastError } : {}) };
}
