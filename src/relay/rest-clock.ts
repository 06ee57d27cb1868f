/**
 * One clock for every relay's read rests. Each leg carries the same stream at the same rate, so if each rested on
 * its own timer the process would wake once per leg per batch. Rests end on a shared grid instead: legs whose rests
 * end in the same slot are resumed by one timer, read in the same event-loop turn, and pause together again.
 */

/** Rest periods are powers of two between these, so legs at similar rates land on common grid points. */
const MIN_PERIOD_MS = 16;
const MAX_PERIOD_MS = 256;

/** The grid period for a wanted rest: the power of two nearest to it (in ratio), within the bounds. */
export function restPeriod(restMs: number): number {
  let period = MIN_PERIOD_MS;
  while (period * 2 <= Math.min(restMs * Math.SQRT2, MAX_PERIOD_MS)) period *= 2;
  return period;
}

/**
 * When a rest that starts at `now` ends: a point on the grid of its period, between half a period and one and
 * a half periods away. Grid points of a longer period are grid points of every shorter one.
 */
export function restSlot(now: number, restMs: number): number {
  const period = restPeriod(restMs);
  return Math.ceil((now + period / 2) / period) * period;
}

export class RestClock {
  readonly #slots = new Map<number, Array<() => void>>();
  #timer: NodeJS.Timeout | undefined;
  #timerAt = Infinity;

  /** Calls `wake` at the end of a rest of about `restMs` that starts now, together with the other legs due then. */
  rest(restMs: number, wake: () => void): void {
    const slot = restSlot(performance.now(), restMs);
    const due = this.#slots.get(slot);
    if (due) due.push(wake);
    else this.#slots.set(slot, [wake]);
    if (slot < this.#timerAt) this.#arm(slot);
  }

  #arm(at: number): void {
    clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = setTimeout(() => this.#fire(), Math.max(0, at - performance.now()));
  }

  #fire(): void {
    this.#timer = undefined;
    this.#timerAt = Infinity;
    // Node's timers run up to a millisecond early or late: take every slot due within 2 ms.
    const now = performance.now() + 2;
    const wakes: Array<() => void> = [];
    for (const [slot, due] of this.#slots) {
      if (slot <= now) {
        wakes.push(...due);
        this.#slots.delete(slot);
      }
    }
    const next = Math.min(...this.#slots.keys());
    if (Number.isFinite(next)) this.#arm(next);
    for (const wake of wakes) wake();
  }
}

/** The clock every relay in this process shares. */
export const restClock = new RestClock();
