import v8 from 'node:v8';
import vm from 'node:vm';
import { HOUR, parseDuration, SECOND } from '../util/duration.js';

/**
 * A full garbage collection once a minute while a stream runs. Objects that outlive two scavenges (a destination's
 * window of acknowledgement samples, prom-client's values between scrapes, a relay's batch when a socket waits) are
 * promoted and die in the old generation, ~0.25 MB a minute. V8 collects it only when it reaches its limit: on the
 * soak that was 15 minutes in, after 4 MB of garbage, and resident memory kept that high-water mark (and the pages the
 * collector's threads first used). Collected every minute, the heap stays near what is alive and reaches the size it
 * keeps within the first minutes. A collection of this heap (~11 MB live) takes ~12 ms of the event loop.
 */
export const HEAP_TRIM_EVERY_MS = 60_000;

/** RTMPUSH_HEAP_TRIM: how often (a duration from 10s to 1h), or `off` (V8's own timing); unset or empty: 1 min. */
export function heapTrimEvery(raw: string | undefined): number {
  if (raw === undefined || raw.trim() === '') return HEAP_TRIM_EVERY_MS;
  if (/^\s*(off|0)\s*$/i.test(raw)) return 0;
  return parseDuration(raw, 'RTMPUSH_HEAP_TRIM', { min: 10 * SECOND, max: HOUR, text: 'from 10s to 1h, or off' });
}

/** V8's full collection, made callable without `--expose-gc` on the command line; undefined where V8 refuses. */
export function fullCollection(): (() => void) | undefined {
  const exposed = (globalThis as { gc?: unknown }).gc;
  if (typeof exposed === 'function') return () => exposed();
  try {
    // the flag applies to contexts made from now on: one made now holds the isolate's full collection as `gc`;
    // put back at once, so no later context (vm, a worker) gets a `gc` of its own
    v8.setFlagsFromString('--expose-gc');
    const gc: unknown = vm.runInNewContext('gc');
    v8.setFlagsFromString('--no-expose-gc');
    return typeof gc === 'function' ? () => gc() : undefined;
  } catch {
    return undefined;
  }
}

/** Runs `collect` every `everyMs` until stopped; the timer never keeps the process alive. */
export function trimHeap(collect: (() => void) | undefined, everyMs = HEAP_TRIM_EVERY_MS): { stop: () => void } {
  if (!collect || everyMs <= 0) return { stop: () => {} };
  const timer = setInterval(collect, everyMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
