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
    // a new encoder (its clock back at 0): judged afresh, and said again if it too cannot keep up
    if (last && outMs < last.outMs) {
      this.#samples = [];
      this.#slow = false;
    }
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

/** x264's speeds, faster to the right. */
export const X264_SPEEDS = [
  'veryslow',
  'slower',
  'slow',
  'medium',
  'fast',
  'faster',
  'veryfast',
  'superfast',
  'ultrafast',
] as const;
/** Past ultrafast, the picture is made smaller this many times (each ×2/3 a side). */
export const SIZE_STEPS = 2;
const SIZE_FACTOR = 2 / 3;

/** Where the stepper stands: an x264 speed, and each side of the picture as a share of the planned (1: full size). */
export interface SpeedLevel {
  x264Preset: string;
  size: number;
}

/** How long it must keep up at a faster speed before one step back is tried; doubled each time that fails. */
export const STEP_BACK_AFTER_MS = 5 * 60_000;
const LONGEST_CALM = 32;

/**
 * Which x264 speed the encoder should run at, when the machine cannot carry the planned one: one step faster each
 * time it falls behind (up to ultrafast, then the picture ×2/3 a side, twice); one step back after it kept up for
 * 5 min, and twice as long before the next once a step back had to be taken back (up to 32×). Pure: the caller
 * gives the times.
 */
export class SpeedStepper {
  readonly #planned: number;
  #level: number;
  #calmSince: number;
  #calmFactor = 1;
  #lastBackAt: number | undefined;

  constructor(planned: string, now: number) {
    this.#planned = Math.max(0, X264_SPEEDS.indexOf(planned as (typeof X264_SPEEDS)[number]));
    this.#level = this.#planned;
    this.#calmSince = now;
  }

  /** What the main encode runs at: an x264 speed, then (past ultrafast) ultrafast at a smaller size. */
  get current(): SpeedLevel {
    const x264Preset = X264_SPEEDS[Math.min(this.#level, X264_SPEEDS.length - 1)]!;
    return { x264Preset, size: Math.round(sizeAt(this.#level) * 100) / 100 };
  }

  /** How many speeds faster than planned: every x264 encode is moved that many from its own planned speed. */
  get steps(): number {
    return this.#level - this.#planned;
  }

  /** The encoder fell behind: the next faster speed, or undefined at the fastest. */
  faster(now: number): SpeedLevel | undefined {
    this.#calmSince = now;
    // a step back that did not hold: wait longer before the next
    if (this.#lastBackAt !== undefined && now - this.#lastBackAt < STEP_BACK_AFTER_MS * this.#calmFactor)
      this.#calmFactor = Math.min(LONGEST_CALM, this.#calmFactor * 2);
    this.#lastBackAt = undefined;
    if (this.#level >= X264_SPEEDS.length - 1 + SIZE_STEPS) return undefined;
    this.#level++;
    return this.current;
  }

  /** A progress report while keeping up: one step back toward the planned speed after the calm, else undefined. */
  calm(now: number, slow: boolean): SpeedLevel | undefined {
    if (slow) {
      this.#calmSince = now;
      return undefined;
    }
    if (this.#level === this.#planned || now - this.#calmSince < STEP_BACK_AFTER_MS * this.#calmFactor)
      return undefined;
    this.#level--;
    this.#calmSince = now;
    this.#lastBackAt = now;
    return this.current;
  }
}

/** An x264 speed `steps` faster than `planned` (ultrafast at most). */
export function fasterBy(planned: string, steps: number): string {
  const i = X264_SPEEDS.indexOf(planned as (typeof X264_SPEEDS)[number]);
  return i < 0 ? planned : X264_SPEEDS[Math.min(X264_SPEEDS.length - 1, i + steps)]!;
}

/** How much smaller the picture is `steps` past `planned` (1: full size; steps beyond ultrafast: ×2/3 each). */
export function sizeBy(planned: string, steps: number): number {
  const i = X264_SPEEDS.indexOf(planned as (typeof X264_SPEEDS)[number]);
  return sizeAt((i < 0 ? X264_SPEEDS.length - 1 : i) + steps);
}

/** The picture's size at a level of the ladder (an index into x264's speeds, then the steps past ultrafast). */
function sizeAt(level: number): number {
  return SIZE_FACTOR ** Math.min(SIZE_STEPS, Math.max(0, level - (X264_SPEEDS.length - 1)));
}
