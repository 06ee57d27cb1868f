import type { Destination } from '../platforms/destinations.js';
import type { DestinationRelay } from '../relay/relay.js';
import { type DestinationState, liveMsAt } from '../state/destination.js';
import { type DeliverySample, NOW_MS, RECENT_MS } from '../adapt/bitrate.js';
import type { DestinationStats, DestinationStatus, RunEvent } from '../run/events.js';
import type { ThroughputMeter } from './throughput.js';

type Summary = Extract<RunEvent, { type: 'summary' }>;

/** One destination on the board: where it goes, its relay, its state and what its server took. */
export interface BoardEntry {
  dest: Destination;
  /** The encode it gets (its feed). */
  encode: string;
  /** What its encode sends (video + audio), what its delivery is judged against. */
  streamKbps: number;
  relay: DestinationRelay;
  state: DestinationState;
  /** What the server took since the destination last went live (reset each time). */
  meter: ThroughputMeter;
  /** The delivered rate the latest `stats` tick read from the meter (the status shows it without sampling). */
  deliveredKbps: number;
}

/** What the server took, into the meter; the session's first burst counts at once (its pace read twice the rate). */
export function sampleDelivery({ relay, meter }: BoardEntry, now: number): void {
  if (relay.everAcked) meter.add(relay.lastAckAt, Math.max(relay.ackedBytes, relay.burstEnd));
  else meter.add(now, relay.sentBytes);
}

/**
 * Samples the meter (on the `stats` tick only): not live, 0; live, what the server acknowledged (or took, where it
 * never acknowledges) since it went live.
 */
function sampleKbps(entry: BoardEntry, now: number): number {
  if (entry.state.name !== 'live') return 0;
  sampleDelivery(entry, now);
  return entry.meter.kbps() ?? 0;
}

/** A destination's figures in a `stats` event: the meter sampled now. */
export function statsOf(entry: BoardEntry, now: number): DestinationStats {
  entry.deliveredKbps = sampleKbps(entry, now);
  return figuresOf(entry, now);
}

/** Its figures as the latest tick read them, its state as it is now: nothing is sampled. */
function figuresOf(entry: BoardEntry, now: number): DestinationStats {
  const { relay, state } = entry;
  return {
    state: state.name,
    deliveredKbps: state.name === 'live' ? entry.deliveredKbps : 0,
    congested: relay.congested,
    droppedFrames: relay.droppedFrames,
    liveMs: liveMsAt(state, now),
    reconnects: state.reconnects,
  };
}

/**
 * What it delivered over its last 5 s, for the bitrate governor beside the `stats` figure; undefined when not live
 * or with no figure of its own for them (a lump after a gap, a session just begun). Read after `statsOf` sampled.
 */
export function recentKbps(entry: BoardEntry): number | undefined {
  if (entry.state.name !== 'live') return undefined;
  return entry.meter.kbps(RECENT_MS) ?? undefined;
}

/**
 * What the bitrate governor reads of it at `now` (twice a second): the figure the latest `stats` tick showed, its
 * last 5 s, the link as it is now (the meter sampled at the latest acknowledgement) and what waits in its queue.
 */
export function deliveryOf(entry: BoardEntry, now: number): DeliverySample {
  const { relay, state } = entry;
  const sample: DeliverySample = {
    state: state.name,
    congested: relay.congested,
    deliveredKbps: state.name === 'live' ? entry.deliveredKbps : 0,
    streamKbps: entry.streamKbps,
    // the embedded server (`local`) is on this machine: what the uplink does is not read from it
    ...(entry.dest.kind === 'local' ? { uplink: false } : {}),
  };
  if (state.name !== 'live') return sample;
  sampleDelivery(entry, now);
  const recent = recentKbps(entry);
  if (recent) sample.recentKbps = recent;
  const current = entry.meter.kbpsAt(now, NOW_MS);
  if (current !== null) sample.nowKbps = current;
  const queued = relay.queuedBytes;
  if (queued !== undefined) sample.queuedBytes = queued;
  return sample;
}

/** What the control API's status shows for it: its state true at this instant, its rate the latest tick's. */
export function statusOf(label: string, entry: BoardEntry, now: number): DestinationStatus {
  const { dest, state } = entry;
  const { deliveredKbps, congested, droppedFrames, liveMs, reconnects } = figuresOf(entry, now);
  return {
    label,
    platform: dest.platform?.id ?? null,
    state: state.name,
    reason: state.reason ?? null,
    attempt: state.attempt,
    nextRetryAt: state.nextRetryAt ? new Date(state.nextRetryAt).toISOString() : null,
    deliveredKbps,
    congested,
    droppedFrames,
    liveMs,
    reconnects,
    paused: state.name === 'paused',
  };
}

/** Its final state, as the summary shows it. */
export function finalOf(s: DestinationState, at: number): Summary['destinations'][string] {
  return {
    finalState: s.name,
    liveMs: liveMsAt(s, at),
    reconnects: s.reconnects,
    ...(s.reason ? { reason: s.reason } : {}),
  };
}
