/** One destination as the governor reads it, once a second. */
export interface DeliverySample {
  state: string;
  congested: boolean;
  deliveredKbps: number;
  /** What it delivered over the last `RECENT_MS` only (when it has such a figure): a link that just fell shows here. */
  recentKbps?: number;
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

/**
 * The video bitrate that follows the uplink: when every live destination is congested or delivers under 85 % of
 * the stream's rate for 5 s (3 s once already stepped down), one step down: ×0.7, or at once to what the best
 * of them delivered (less 15 % and the audio; over its last 5 s when that was less) when that is lower, never
 * under 30 % of the plan; after 60 s with none struggling, one step up (÷0.7), never above the plan; a step up
 * that had to be taken back doubles the wait before the next (up to 32×), so a link that holds a rate between two
 * steps does not make it swing for ever. One slow destination among healthy ones lowers nobody: it drops to
 * keyframes, as before. Pure: fed samples with their time, it says when to change.
 */
export class BitrateGovernor {
  #kbps: number;
  #strugglingSince: number | undefined;
  #calmSince: number;
  #settledAt = 0;
  /** The calm wanted before a step up: doubled each time a step up had to be taken back (up to 32×). */
  #calmMs: number;
  #lastUpAt: number | undefined;
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

  /** One sample of every destination; a change when the bitrate should move now. */
  sample(now: number, destinations: DeliverySample[]): BitrateChange | undefined {
    if (now < this.#settledAt) return undefined;
    const live = destinations.filter((d) => d.state === 'live');
    const expected = (this.#kbps + this.audioKbps) * DELIVERY_SHARE;
    const struggling = live.length > 0 && live.every((d) => d.congested || d.deliveredKbps < expected);
    if (!struggling) {
      this.#strugglingSince = undefined;
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
    // a step up that had to be taken back: the link did not have it; wait twice as long before the next
    if (this.#lastUpAt !== undefined && now - this.#lastUpAt < this.#calmMs + STRUGGLE_MS + SETTLE_MS)
      this.#calmMs = Math.min(this.calmMs * 32, this.#calmMs * 2);
    this.#lastUpAt = undefined;
    // the last 5 s when they delivered less (a link that just fell); a figure of 0 there is none (a stalled write)
    const delivered = live.map((d) => (d.recentKbps ? Math.min(d.deliveredKbps, d.recentKbps) : d.deliveredKbps));
    const fits = Math.max(...delivered) * HEADROOM - this.audioKbps;
    return this.#change(now, Math.round(Math.max(this.floorKbps, Math.min(this.#kbps * STEP, fits))), why);
  }

  #change(now: number, kbps: number, reason: string): BitrateChange {
    const previousKbps = this.#kbps;
    this.#kbps = kbps;
    this.#strugglingSince = undefined;
    this.#calmSince = now;
    this.#settledAt = now + SETTLE_MS;
    return { kbps, previousKbps, reason };
  }
}
