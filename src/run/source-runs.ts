import type { Plan } from '../plan/plan.js';
import type { EncoderRun } from './encoder-run.js';
import type { FfmpegExit } from './ffmpeg-process.js';

/** The plan at another video bitrate (the buffer scaled with it). */
export function withVideoKbps(plan: Plan, kbps: number): Plan {
  if (kbps === plan.video.kbps) return plan;
  const bufsizeKbps = Math.round((plan.video.bufsizeKbps * kbps) / plan.video.kbps);
  return { ...plan, video: { ...plan.video, kbps, bufsizeKbps } };
}

/** Why a source's encoder ended, as the user reads it: ffmpeg's last error (keys redacted), else how it exited. */
export function lossReason(run: EncoderRun, exit: FfmpegExit): string {
  if (run.lastError) return run.lastError.replace(/^(\[[^\]]*\]\s*)+/, '');
  return exit.signal ? `the encoder was stopped (${exit.signal})` : `the encoder ended (exit ${exit.exitCode})`;
}
