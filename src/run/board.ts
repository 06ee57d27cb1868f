import type { Progress } from '../ffmpeg/progress.js';
import type { TlsPolicy } from '../net/tls-policy.js';
import type { Plan } from '../plan/plan.js';
import { platformHints } from '../platforms/table.js';
import { DestinationRelay, type RelayEvent } from '../relay/relay.js';
import type { RetryPolicy } from '../state/backoff.js';
import {
  type DestinationEvent,
  type DestinationState,
  initialState,
  isReportable,
  liveMsAt,
  nextState,
} from '../state/destination.js';
import type { DestinationStats, Emit, RunEvent } from './events.js';
import { ThroughputMeter } from './throughput.js';

type Summary = Extract<RunEvent, { type: 'summary' }>;

interface Entry {
  relay: DestinationRelay;
  state: DestinationState;
  meter: ThroughputMeter;
}

/**
 * Every destination of a stream: its relay, its state (relay events through the pure state machine, reported as
 * `state` events when they change), and the figures `stats` shows for it.
 */
export class DestinationBoard {
  readonly #entries = new Map<string, Entry>();
  readonly #streamKbps: number;

  constructor(
    plan: Plan,
    opts: { retry: RetryPolicy; tls: TlsPolicy },
    private readonly emit: Emit,
    private readonly onLegFault: (reason: string) => void = () => {},
  ) {
    this.#streamKbps = plan.video.kbps + plan.audio.kbps;
    for (const dest of plan.destinations) {
      const relay = new DestinationRelay({
        target: { ...dest.endpoint, key: dest.key },
        retry: opts.retry,
        tls: opts.tls,
        bitrateKbps: this.#streamKbps,
        hints: platformHints(dest.platform),
        onEvent: (e) => this.#onRelayEvent(dest.label, e),
      });
      this.#entries.set(dest.label, { relay, state: initialState(Date.now()), meter: new ThroughputMeter() });
    }
  }

  /** The relays, in the order of the plan's destinations (the tee's legs are in the same order). */
  get relays(): DestinationRelay[] {
    return [...this.#entries.values()].map((e) => e.relay);
  }

  /** Every destination starts dialling and is reported `connecting`. */
  start(): void {
    for (const [label, { relay }] of this.#entries) {
      relay.start();
      this.emit({ type: 'state', destination: label, state: 'connecting' });
    }
  }

  /** Every destination waiting to retry tries now (SIGUSR1). */
  retryNow(): void {
    for (const { relay } of this.#entries.values()) relay.retryNow();
  }

  /** Each relay sends what the encoder wrote last and unpublishes; every destination reaches its final state. */
  async stop(): Promise<void> {
    await Promise.all(this.relays.map((r) => r.stop()));
    const at = Date.now();
    for (const label of this.#entries.keys()) this.#apply(label, { type: 'stop', at });
  }

  /** The per-destination figures for a `stats` event, sampled now (the encoder's progress paces them). */
  stats(p: Progress): RunEvent {
    const now = Date.now();
    const destinations: Record<string, DestinationStats> = {};
    for (const [label, { relay, state, meter }] of this.#entries) {
      // Acked counts are sampled at the instant they arrived: 64 KiB steps would otherwise swing a slow link's figure.
      if (relay.everAcked) meter.add(relay.lastAckAt, relay.ackedBytes);
      else meter.add(now, relay.sentBytes);
      destinations[label] = {
        state: state.name,
        deliveredKbps: meter.kbps(),
        congested: relay.congested,
        droppedFrames: relay.droppedFrames,
        liveMs: liveMsAt(state, now),
        reconnects: state.reconnects,
      };
    }
    const { fps, speed, bitrateKbps, droppedFrames, outTimeMs, frame } = p;
    return { type: 'stats', fps, speed, bitrateKbps, droppedFrames, outTimeMs, frame, destinations };
  }

  /** Each destination's final state, as the summary shows it. */
  finals(at: number): Summary['destinations'] {
    const out: Summary['destinations'] = {};
    for (const [label, { state: s }] of this.#entries) {
      out[label] = {
        finalState: s.name,
        liveMs: liveMsAt(s, at),
        reconnects: s.reconnects,
        ...(s.reason ? { reason: s.reason } : {}),
      };
    }
    return out;
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
      case 'live':
        return this.#apply(label, { type: 'live', at });
      case 'retry':
        return this.#apply(label, { ...e, at });
      case 'rejected':
        return this.#apply(label, { ...e, at });
      case 'failed':
        return this.#apply(label, { type: 'failed', at, reason: e.reason });
      case 'leg-fault':
        // rtmpush's own side: the encoder is restarted (this destination would get nothing from it otherwise)
        return this.onLegFault(`${label}: the encoder's leg cannot be read (${e.reason})`);
      case 'congested': {
        if (!e.congested) return;
        const delivered = this.#entries.get(label)?.meter.kbps();
        const figure = delivered ? ` (${delivered} kbps delivered of ${this.#streamKbps} kbps)` : '';
        return this.emit({
          type: 'warning',
          message:
            `${label}: congested: ` +
            `the destination is not taking the stream as fast as it is made${figure}; dropping to the next keyframe`,
        });
      }
    }
  }
}
