/** Under this share of real time, sustained, the encoder cannot carry the stream. */
export const SLOW_SPEED = 0.97;
/** How long it must stay under before it is said (and how much stream the figure covers). */
export const SLOW_FOR_MS = 10_000;
/** It has room again once it keeps up at this over the same span. */
const RECOVERED_SPEED = 0.99;

interface Sample {
  at: number;
  outMs: number;
}

/**
 * Whether the encoder keeps up with real time, from its progress: how much stream it made over the last 10 s of
 * wall time (ffmpeg's own `speed` is an average since it started, which hides a machine that has just fallen
 * behind). Slow when both halves of those 10 s are under 0.97× (a hiccup made up within seconds is not); it keeps
 * up again at 0.99× over the 10 s. A new encoder (its clock back at 0) starts the window again. Pure: the caller
 * gives the times.
 */
export class SpeedWatch {
  #samples: Sample[] = [];
  #slow = false;
  /** Stream made per wall-clock second over the window, once the window is full; else null. */
  speed: number | null = null;

  get slow(): boolean {
    return this.#slow;
  }

  /** A progress report: `slow` when it has just fallen behind for 10 s, `recovered` when it keeps up again. */
  sample(at: number, outMs: number): 'slow' | 'recovered' | undefined {
    const last = this.#samples.at(-1);
    if (last && outMs < last.outMs) this.#samples = [];
    const now = { at, outMs };
    this.#samples.push(now);
    while (this.#samples.length > 2 && at - this.#samples[1]!.at >= SLOW_FOR_MS) this.#samples.shift();
    const first = this.#samples[0]!;
    if (at - first.at < SLOW_FOR_MS) {
      this.speed = null;
      return undefined;
    }
    const mid = [...this.#samples].reverse().find((x) => x.at <= at - SLOW_FOR_MS / 2) ?? first;
    const rate = (a: Sample, b: Sample): number => (b.at > a.at ? (b.outMs - a.outMs) / (b.at - a.at) : 1);
    this.speed = Math.round(rate(first, now) * 1000) / 1000;
    if (!this.#slow && rate(first, mid) < SLOW_SPEED && rate(mid, now) < SLOW_SPEED) {
      this.#slow = true;
      return 'slow';
    }
    if (this.#slow && this.speed >= RECOVERED_SPEED) {
      this.#slow = false;
      return 'recovered';
    }
    return undefined;
  }
}
