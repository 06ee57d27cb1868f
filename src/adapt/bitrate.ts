/** One destination as the governor reads it, once a second. */
export interface DeliverySample {
  state: string;
  congested: boolean;
  deliveredKbps: number;
  /** What it delivered over the last `RECENT_MS` only (when it has such a figure): a link that just fell shows here. */
  recentKbps?: number;
  /** What it delivered over the last `NOW_MS` up to this instant (a link that went quiet reads low). */
  nowKbps?: number;
  /** What waits unacknowledged beyond one acknowledgement window (a first burst not counted). */
  queuedBytes?: number;
  /** What its own encode sends as planned (video + audio): a second encode's destinations are judged by theirs. */
  streamKbps?: number;
  /** False for a destination on this machine (the embedded server): it tells nothing of the uplink. */
  uplink?: false;
}

export interface BitrateChange {
  kbps: number;
  previousKbps: number;
  reason: string;
}

/** The stretch a step down's aim is read over: the struggle itself, not the faster seconds before it. */
export const RECENT_MS = 5000;
/** How long every live destination must be struggling before the bitrate steps down. */
export const STRUGGLE_MS = 5000;
/** How long without a struggle before it steps back up. */
export const CALM_MS = 60_000;
/** Each step down multiplies the video bitrate by this; a step up divides by it. */
export const STEP = 0.7;
/** Never under this share of the planned video bitrate. */
export const FLOOR = 0.3;
/** A destination delivering under this share of what is sent is struggling, congested or not. */
export const DELIVERY_SHARE = 0.85;
/** After a change the new encoder's first seconds (its burst, the switch) are not judged. */
const SETTLE_MS = 3000;
/** A step down aims this far under what the best destination delivered: room for the queue to drain. */
const HEADROOM = 0.85;
/** Struggling still once the step down settled: the next step comes sooner (the link fell further than it). */
export const STRUGGLE_AGAIN_MS = 3000;
/** The stretch a shortfall's figure is read over: the link as it is now. */
export const NOW_MS = 1000;
/** Short of link: this much of the stream waits unacknowledged (beyond one window)... */
export const SHORT_QUEUE_MS = 350;
/** ...while the link took under this share of the stream over the last NOW_MS. */
export const SHORT_SHARE = 0.9;
/** ...or a queue this long stands (the link takes about the stream, so what waits never drains). */
export const STANDING_QUEUE_MS = 1500;
/** ...for this long since the encoder took its rate (what waited from before drains meanwhile)... */
export const STANDING_AFTER_MS = 3000;
/** ...while the server takes under this share of the stream (one that drains it faster is left to). */
export const STANDING_SHARE = 1.1;
/** A shortfall is real once every live destination has been short this long (two samples). */
export const SHORT_CONFIRM_MS = 400;
/**
 * The quick step aims this far under what they took: its figure is read over the last second, part of it from before
 * the link fell, and reads up to a sixth high then.
 */
const QUICK_HEADROOM = 0.8;
/** A step down also leaves room to drain what waits within this long. */
const DRAIN_MS = 10_000;
/** After the encoder took a new rate, its first second is not judged slowly (its first keyframe is a burst). */
const AFTER_SWAP_MS = 1000;
/** The quick step looks again this long after any change (its figures are the link's, not the encoder's). */
const QUICK_AGAIN_MS = 1000;

/**
 * The video bitrate that follows the uplink. Quickly: when every live destination's queue holds a third of a second of
 * the stream while its server takes under 90 % of it (two samples, half a second apart), one step at once to what they
 * take on average, with room to drain (the queue absorbs the dip meanwhile). Slowly, for what that does not see: when
 * every live destination is congested or delivers under 85 % of the stream's rate for 5 s (3 s once already stepped
 * down), one step down: ×0.7, or at once to what the best of them delivered (less 15 % and the audio; over its last 5 s
 * when that was less) when that is lower, never under 30 % of the plan. After 60 s with none struggling, one step up
 * (÷0.7), never above the plan; a step up that had to be taken back doubles the wait before the next (up to 32×), so a
 * link that holds a rate between two steps does not make it swing for ever. One slow destination among healthy ones
 * lowers nobody: its own queue, its own drops. Pure: fed samples with their time, it says when to change.
 */
export class BitrateGovernor {
  #kbps: number;
  #strugglingSince: number | undefined;
  #calmSince: number;
  #settledAt = 0;
  #changedAt = -Infinity;
  /** The rate the encoder makes, and since when: a queue stands only if it stood at that rate. */
  #encoded: number;
  #encodedAt: number;
  /** The calm wanted before a step up: doubled each time a step up had to be taken back (up to 32×). */
  #calmMs: number;
  #lastUpAt: number | undefined;
  /** Since when every live destination has been short of link (queue growing, link under the stream). */
  #shortSince: number | undefined;
  /** A warning the session has not said yet: even the floor does not fit. Said once while it lasts. */
  #notice: string | undefined;
  #floorShort = false;
  /** An operator's ceiling (`rtmpush bitrate`): the plan's unless one was given. */
  #ceiling: number;

  constructor(
    private readonly planKbps: number,
    /** The audio's share of each destination's rate: what is delivered is audio and video. */
    private readonly audioKbps: number,
    now: number,
    private readonly calmMs = CALM_MS,
  ) {
    this.#kbps = planKbps;
    this.#encoded = planKbps;
    this.#encodedAt = now;
    this.#ceiling = planKbps;
    this.#calmSince = now;
    this.#calmMs = calmMs;
  }

  /**
   * An operator's ceiling (`rtmpush bitrate`; undefined: the plan's again): above it the bitrate goes down to it at
   * once; it never steps up past it. Lifted, it steps back up as after any calm.
   */
  cap(kbps: number | undefined, now: number): BitrateChange | undefined {
    this.#ceiling = Math.min(this.planKbps, kbps ?? this.planKbps);
    if (kbps === undefined || this.#kbps <= this.#ceiling) return undefined;
    return this.#change(now, this.#ceiling, `an operator asked for at most ${this.#ceiling} kbps (rtmpush bitrate)`);
  }

  get kbps(): number {
    return this.#kbps;
  }

  /** The encoder stayed at `kbps` (a swap to another rate failed): the governor goes on from there. */
  follow(kbps: number): void {
    this.#kbps = kbps;
  }

  get floorKbps(): number {
    return Math.min(this.#ceiling, Math.round(this.planKbps * FLOOR));
  }

  /** Said once when even the floor does not fit the link (pictures will be dropped), taken by who says it. */
  takeNotice(): string | undefined {
    const notice = this.#notice;
    this.#notice = undefined;
    return notice;
  }

  /**
   * One sample of every destination (twice a second); a change when the bitrate should move now. `encodedKbps`: what
   * the running encoder makes; while a swap to the wanted rate is under way, nothing is judged.
   */
  sample(now: number, destinations: DeliverySample[], encodedKbps = this.#kbps): BitrateChange | undefined {
    const swapping = encodedKbps !== this.#kbps;
    if (encodedKbps !== this.#encoded) {
      this.#encoded = encodedKbps;
      this.#encodedAt = now;
    }
    const live = destinations.filter((d) => d.state === 'live' && d.uplink !== false);
    const short = now >= this.#changedAt + QUICK_AGAIN_MS ? this.#short(now, live, swapping) : undefined;
    if (short) return short;
    if (swapping) this.#settledAt = Math.max(this.#settledAt, now + AFTER_SWAP_MS);
    if (now < this.#settledAt) return undefined;
    const expected = (this.#kbps + this.audioKbps) * DELIVERY_SHARE;
    const struggling = live.length > 0 && live.every((d) => d.congested || d.deliveredKbps < expected);
    if (!struggling) {
      this.#strugglingSince = undefined;
      if (this.#shortSince === undefined) this.#floorShort = false;
      if (now - this.#calmSince >= this.#calmMs && this.#kbps < this.#ceiling) {
        const next = Math.min(this.#ceiling, Math.round(this.#kbps / STEP));
        const change = this.#change(now, next, `no destination struggled for ${Math.round(this.#calmMs / 1000)} s`);
        this.#lastUpAt = now;
        return change;
      }
      return undefined;
    }
    this.#calmSince = now;
    this.#strugglingSince ??= now;
    const wait = this.#kbps < this.planKbps && this.#lastUpAt === undefined ? STRUGGLE_AGAIN_MS : STRUGGLE_MS;
    if (now - this.#strugglingSince < wait || this.#kbps <= this.floorKbps) return undefined;
    const why = live.every((d) => d.congested)
      ? `every destination congested for ${wait / 1000} s`
      : `the destinations delivered under ${DELIVERY_SHARE * 100} % of the stream for ${wait / 1000} s`;
    this.#backOffUp(now);
    // the last 5 s when they delivered less (a link that just fell); a figure of 0 there is none (a stalled write)
    const delivered = live.map((d) => (d.recentKbps ? Math.min(d.deliveredKbps, d.recentKbps) : d.deliveredKbps));
    const fits = Math.max(...delivered) * HEADROOM - this.audioKbps;
    return this.#change(now, Math.round(Math.max(this.floorKbps, Math.min(this.#kbps * STEP, fits))), why);
  }

  /**
   * The quick step: every live destination short of link (its queue holding over 350 ms of the stream while its server
   * took under 90 % of it over the last second), twice in a row: one step, at once, to what they took on average (less
   * 20 %, the audio and room to drain the longest queue in 10 s, at most 15 %), when that is under the rate now (under
   * 70 % of it while the encoder is still taking the last step: that swap is given up for this one). "What they took"
   * is the median of the share of its own stream each took. Destinations behind one uplink share it unevenly from one
   * second to the next: the slowest of them would aim low; one much slower than the others on a path of its own drops
   * alone, as it would anyway. The embedded server (`local`) is not read: it is not behind the uplink.
   */
  #short(now: number, live: DeliverySample[], swapping: boolean): BitrateChange | undefined {
    const total = this.#kbps + this.audioKbps;
    // each destination by its own encode's stream as it is now (every encode is scaled alike)
    const ratio = this.#kbps / this.planKbps;
    const own = (d: DeliverySample): number =>
      d.streamKbps ? Math.max(1, (d.streamKbps - this.audioKbps) * ratio + this.audioKbps) : total;
    const waiting = (d: DeliverySample): number => ((d.queuedBytes ?? 0) * 8) / own(d);
    // what waits since before the encoder's last change was made at another rate: it stands only after a while
    const settled = !swapping && now - this.#encodedAt >= STANDING_AFTER_MS;
    const isShort = (d: DeliverySample): boolean =>
      d.queuedBytes !== undefined &&
      d.nowKbps !== undefined &&
      waiting(d) >= SHORT_QUEUE_MS &&
      (d.nowKbps < own(d) * SHORT_SHARE ||
        (settled && waiting(d) >= STANDING_QUEUE_MS && d.nowKbps < own(d) * STANDING_SHARE));
    if (live.length === 0 || !live.every(isShort)) {
      this.#shortSince = undefined;
      return undefined;
    }
    this.#calmSince = now;
    this.#shortSince ??= now;
    if (now - this.#shortSince < SHORT_CONFIRM_MS) return undefined;
    // the share of its stream each took, their median: destinations behind one uplink share it unevenly from second
    // to second, and a stalled one (0) does not halve the others
    const share = median(live.map((d) => d.nowKbps! / own(d)));
    const took = Math.round(share * total);
    const queuedMs = Math.max(...live.map(waiting));
    const fits = took * QUICK_HEADROOM - this.audioKbps;
    const aim = Math.round(Math.max(this.floorKbps, fits - Math.min(fits * 0.15, (queuedMs * total) / DRAIN_MS)));
    if (this.#kbps <= this.floorKbps && took < this.floorKbps + this.audioKbps && !this.#floorShort) {
      this.#floorShort = true;
      this.#notice =
        `the link takes about ${took} kbps, under even the lowest bitrate (${this.floorKbps} kbps of video and ` +
        `${this.audioKbps} of audio): pictures are dropped until it recovers`;
    }
    // while the encoder is still taking the last step, only a link that fell far below it is worth another
    if (aim >= this.#kbps * (swapping ? 0.7 : 1)) return undefined;
    this.#backOffUp(now);
    const whose = live.length === 1 ? 'the destination' : `all ${live.length} destinations`;
    const grew = live.every((d) => d.nowKbps! < own(d) * SHORT_SHARE) ? 'the queue grew' : 'the queue does not drain';
    const why = `the link took ${took} kbps of the ${total} sent, and ${grew} (${whose})`;
    return this.#change(now, aim, why);
  }

  /** A step down soon after a step up: the link did not have it; wait twice as long before the next step up. */
  #backOffUp(now: number): void {
    if (this.#lastUpAt !== undefined && now - this.#lastUpAt < this.#calmMs + STRUGGLE_MS + SETTLE_MS)
      this.#calmMs = Math.min(this.calmMs * 32, this.#calmMs * 2);
    this.#lastUpAt = undefined;
  }

  #change(now: number, kbps: number, reason: string): BitrateChange {
    const previousKbps = this.#kbps;
    this.#kbps = kbps;
    this.#strugglingSince = undefined;
    this.#shortSince = undefined;
    this.#calmSince = now;
    this.#changedAt = now;
    this.#settledAt = now + SETTLE_MS;
    return { kbps, previousKbps, reason };
  }
}

/** The middle value (the mean of the two middle ones for an even count). */
function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
