import type { Progress } from '../ffmpeg/progress.js';
import type { TlsPolicy } from '../net/tls-policy.js';
import type { Plan } from '../plan/plan.js';
import { type Destination, publishKey } from '../platforms/destinations.js';
import { RequestRefused } from '../errors.js';
import { platformHints } from '../platforms/table.js';
import { FeedSet } from '../relay/feeds.js';
import { type Encode, matchEncode } from '../plan/encodes.js';
import { DestinationRelay, type RelayEvent } from '../relay/relay.js';
import type { RetryPolicy } from '../state/backoff.js';
import { type DestinationEvent, initialState, isReportable, liveMsAt, nextState } from '../state/destination.js';
import type { DestinationMetrics, DestinationStats, DestinationStatus, Emit, RunEvent } from '../run/events.js';
import { ThroughputMeter } from './throughput.js';
import type { DeliverySample } from '../adapt/bitrate.js';
import { type BoardEntry, deliveryOf, finalOf, sampleDelivery, statsOf, statusOf } from './board-entry.js';

type Summary = Extract<RunEvent, { type: 'summary' }>;

/**
 * Every destination of a stream: its relay, fed from the encoder's one media feed; its state (relay events
 * through the pure state machine, reported as `state` events when they change); the figures `stats` and the
 * status show. Destinations can be added, removed, paused and resumed while the encoder runs.
 */
export class DestinationBoard {
  readonly #entries = new Map<string, BoardEntry>();
  /** Destinations removed while streaming: the summary still tells of them. */
  readonly #removed = new Map<string, Summary['destinations'][string]>();
  /** Where destinations still unpublishing after a remove publish (URL and key): not to be added again yet. */
  readonly #leaving = new Set<string>();
  #closing = false;
  #started = false;
  readonly #encoderMeter = new ThroughputMeter();
  readonly #encodes: readonly Encode[];
  readonly feed: FeedSet;

  constructor(
    private readonly plan: Plan,
    private readonly opts: { retry: RetryPolicy; tls: TlsPolicy },
    private readonly emit: Emit,
    onLegFault: (reason: string) => void = () => {},
  ) {
    this.#encodes = plan.encodes;
    // rtmpush's own side: the encoder is restarted (no destination would get anything from it otherwise)
    this.feed = new FeedSet(
      plan.encodes.map((e) => ({ id: e.id, fps: e.video.fps })),
      (reason) => onLegFault(`the encoder's leg cannot be read (${reason})`),
    );
    for (const dest of plan.destinations) {
      this.#create(dest, this.#encodes.find((e) => e.destinations.includes(dest.label)) ?? this.#encodes[0]!);
    }
  }

  /** Each destination's label and where it publishes (URL and key): what a reload compares. */
  get publishing(): Map<string, string> {
    return new Map([...this.#entries].map(([label, e]) => [label, publishKey(e.dest)]));
  }

  /** Every destination starts dialling and is reported `connecting`. */
  start(): void {
    this.#started = true;
    for (const label of this.#entries.keys()) this.#begin(label);
  }

  /** A destination added while streaming: fed at once from the encoder's latest keyframe, and dialled. */
  add(dest: Destination): DestinationStatus {
    this.#open();
    if (this.#entries.has(dest.label)) throw new RequestRefused(409, `${dest.label} is already a destination`);
    const key = publishKey(dest);
    const same = [...this.#entries].find(([, e]) => publishKey(e.dest) === key);
    if (same) throw new RequestRefused(409, `${same[0]} already publishes there with that key`);
    if (this.#leaving.has(key))
      throw new RequestRefused(409, 'a destination with that URL and key is still unpublishing; try again in a moment');
    let encode: Encode;
    try {
      // its own setting's encode: a setting the stream does not make is refused (a new encode needs a restart)
      encode = matchEncode(this.#encodes, dest, this.plan.choices);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      throw new RequestRefused(/^unknown preset/.test(message) ? 400 : 409, message);
    }
    this.#removed.delete(dest.label);
    this.#create(dest, encode);
    // before the stream starts (an ingest waiting for its encoder) it is dialled with the others, at start
    if (this.#started) this.#begin(dest.label);
    return this.status().find((d) => d.label === dest.label)!;
  }

  /**
   * A clean unpublish, then the destination is gone (the others are not touched). The last one stays, unless a
   * reload is about to add others.
   */
  async remove(label: string, { evenLast = false } = {}): Promise<void> {
    this.#open();
    const entry = this.#entry(label);
    if (this.#entries.size === 1 && !evenLast)
      throw new RequestRefused(409, `${label} is the last destination: stop the stream instead (rtmpush stop)`);
    this.#entries.delete(label);
    this.feed.unsubscribe(entry.relay);
    const s = entry.state;
    // the operator's choice, whatever state it was in: not a destination that failed the run
    this.#removed.set(label, {
      finalState: 'stopped',
      liveMs: liveMsAt(s, Date.now()),
      reconnects: s.reconnects,
      reason: 'removed',
    });
    const url = publishKey(entry.dest);
    this.#leaving.add(url);
    try {
      await entry.relay.stop();
    } finally {
      this.#leaving.delete(url);
    }
    this.emit({ type: 'state', destination: label, state: 'stopped', reason: 'removed' });
  }

  async pause(label: string): Promise<void> {
    this.#open();
    const entry = this.#entry(label);
    if (entry.state.terminal) throw new RequestRefused(409, `${label} has ended (${entry.state.name})`);
    if (entry.state.name === 'paused') return;
    this.#apply(label, { type: 'pause', at: Date.now() });
    await entry.relay.hold();
  }

  resume(label: string): void {
    this.#open();
    const entry = this.#entry(label);
    if (entry.state.name !== 'paused') throw new RequestRefused(409, `${label} is not paused (${entry.state.name})`);
    this.#apply(label, { type: 'resume', at: Date.now() });
    entry.relay.release();
  }

  /** Destinations waiting to retry try now (SIGUSR1, or the API for one). The labels that did. */
  retryNow(label?: string): string[] {
    const entries = label === undefined ? [...this.#entries] : [[label, this.#entry(label)] as const];
    return entries.filter(([, e]) => e.relay.retryNow()).map(([l]) => l);
  }

  /** The feed has been drained; each relay unpublishes; every destination reaches its final state. */
  async stop(): Promise<void> {
    this.#closing = true;
    await Promise.all([...this.#entries.values()].map((e) => e.relay.stop()));
    const at = Date.now();
    for (const label of this.#entries.keys()) this.#apply(label, { type: 'stop', at });
  }

  /** The figures for a `stats` event, sampled now (the encoder's progress paces them). */
  stats(p: Progress): Extract<RunEvent, { type: 'stats' }> {
    const now = Date.now();
    const destinations: Record<string, DestinationStats> = {};
    for (const [label, entry] of this.#entries) destinations[label] = statsOf(entry, now);
    // ffmpeg gives no bitrate when its outputs are pipes: what it wrote into the feed is the figure.
    this.#encoderMeter.add(now, this.feed.bytes);
    const { fps, speed, droppedFrames, outTimeMs, frame } = p;
    const bitrateKbps = p.bitrateKbps ?? this.#encoderMeter.kbps();
    return { type: 'stats', fps, speed, bitrateKbps, droppedFrames, outTimeMs, frame, destinations };
  }

  /** What the bitrate governor reads of every destination, sampled now (twice a second). */
  delivery(now = Date.now()): DeliverySample[] {
    return [...this.#entries.values()].map((entry) => deliveryOf(entry, now));
  }

  /** What the control API's status shows for each destination, true at this instant. */
  status(): DestinationStatus[] {
    const now = Date.now();
    return [...this.#entries].map(([label, entry]) => statusOf(label, entry, now));
  }

  /** The status and what Prometheus counts besides: bytes delivered over every session. */
  metrics(): DestinationMetrics[] {
    return this.status().map((d) => ({ ...d, deliveredBytes: this.#entries.get(d.label)!.relay.deliveredTotal }));
  }

  /** From now on (the stream is stopping) destinations can no longer be added, removed, paused or resumed. */
  close(): void {
    this.#closing = true;
  }

  get closing(): boolean {
    return this.#closing;
  }

  #open(): void {
    if (this.#closing) throw new RequestRefused(409, 'the stream is stopping');
  }

  /** Each destination's final state, as the summary shows it (those removed while streaming too). */
  finals(at: number): Summary['destinations'] {
    const out: Summary['destinations'] = Object.fromEntries(this.#removed);
    for (const [label, { state }] of this.#entries) out[label] = finalOf(state, at);
    return out;
  }

  #create(dest: Destination, encode: Encode): void {
    const label = dest.label;
    const streamKbps = encode.video.kbps + encode.audio.kbps;
    const relay = new DestinationRelay({
      target: { ...dest.endpoint, key: dest.key },
      retry: this.opts.retry,
      tls: this.opts.tls,
      bitrateKbps: streamKbps,
      hints: platformHints(dest.platform),
      onEvent: (e) => this.#entries.get(label)?.relay === relay && this.#onRelayEvent(label, e),
    });
    const state = initialState(Date.now());
    this.#entries.set(label, {
      dest,
      encode: encode.id,
      streamKbps,
      relay,
      state,
      meter: new ThroughputMeter(),
      deliveredKbps: 0,
    });
  }

  #begin(label: string): void {
    const { relay, encode } = this.#entry(label);
    this.feed.subscribe(relay, encode);
    relay.start();
    this.emit({ type: 'state', destination: label, state: 'connecting' });
  }

  #entry(label: string): BoardEntry {
    const entry = this.#entries.get(label);
    if (!entry) throw new RequestRefused(404, `no destination ${label}`);
    return entry;
  }

  #apply(label: string, event: DestinationEvent): void {
    const entry = this.#entries.get(label)!;
    const before = entry.state;
    const after = nextState(before, event);
    entry.state = after;
    if (!isReportable(before, after)) return;
    const retry = after.nextRetryAt
      ? { attempt: after.attempt, delayMs: after.delayMs, nextRetryAt: new Date(after.nextRetryAt).toISOString() }
      : {};
    this.emit({
      type: 'state',
      destination: label,
      state: after.name,
      ...(after.reason ? { reason: after.reason } : {}),
      ...retry,
    });
  }

  #onRelayEvent(label: string, e: RelayEvent): void {
    const at = Date.now();
    switch (e.type) {
      case 'live': {
        // The figure starts afresh from this moment's count: the burst the session started with is not in it.
        const entry = this.#entries.get(label)!;
        entry.meter = new ThroughputMeter();
        sampleDelivery(entry, at);
        return this.#apply(label, { type: 'live', at });
      }
      case 'retry':
      case 'rejected':
        return this.#apply(label, { ...e, at });
      case 'failed':
        return this.#apply(label, { type: 'failed', at, reason: e.reason });
      case 'congested': {
        const entry = this.#entries.get(label);
        if (e.congested && entry) this.emit(congestedWarning(label, entry.meter.kbps(), entry.streamKbps));
        return;
      }
    }
  }
}

/** A destination that does not take the stream as fast as it is made. */
function congestedWarning(label: string, deliveredKbps: number | null | undefined, streamKbps: number): RunEvent {
  const figure = deliveredKbps ? ` (${deliveredKbps} kbps delivered of ${streamKbps} kbps)` : '';
  return {
    type: 'warning',
    message:
      `${label}: congested: ` +
      `the destination is not taking the stream as fast as it is made${figure}; dropping to the next keyframe`,
  };
}
