import type { Plan } from '../plan/plan.js';
import { slateCovers } from '../plan/source.js';
import type { SourceSetup } from './machine.js';

/** A source whose loss the slate covers: an ingest always; a URL, camera or screen unless --slate-timeout 0. */
export function slateCoversLoss(plan: Plan): boolean {
  return plan.source.kind === 'listen' || (slateCovers(plan.source) && (plan.slate?.timeoutMs ?? 0) > 0);
}

/**
 * Sources whose encoder can be swapped for one at another bitrate or speed while the first still runs: an ingest (fed
 * to both), a URL (opened twice), a screen, the test pattern (a new one), a regular file (opened again where the first
 * one is; looped, one whose length ffprobe gave). Not a camera (one process at a time), a FIFO or stdin (read once),
 * nor under --copy.
 */
export function encoderSwappable(plan: Plan): boolean {
  if (plan.copy) return false;
  const { source } = plan;
  if (source.kind === 'testsrc') return true;
  // a looped file of unknown length: where it is after a while cannot be said (-ss past its end finds nothing)
  if (source.kind === 'file') return source.seekable === true && (!source.loop || (source.durationS ?? 0) > 0);
  return slateCoversLoss(plan) && ['listen', 'url', 'screen'].includes(source.kind);
}

/** What the source machine needs to know of a plan. */
export function setupFor(plan: Plan, watchdogMs: number): SourceSetup {
  return {
    listen: plan.source.kind === 'listen',
    copy: Boolean(plan.copy),
    slate: slateCoversLoss(plan),
    slateTimeoutMs: plan.slate?.timeoutMs ?? 0,
    restartable: plan.source.kind !== 'stdin',
    swappable: encoderSwappable(plan),
    kbps: plan.video.kbps,
    watchdogMs,
    ...(plan.durationMs !== undefined ? { durationMs: plan.durationMs } : {}),
  };
}
