import type { Source } from '../plan/source.js';

/** A source silent this long is lost, at the least; never judged on more than the longest. */
const SILENCE_FLOOR_MS = 1000;
const SILENCE_LONGEST_MS = 8000;

/**
 * When a URL, camera or screen that gives no frames counts as lost: after 1 s for a steady source (its leg is read
 * at least every ~0.4 s while frames flow), or 2.5 times the longest pause it has made and come back from (HLS
 * and other bursty sources deliver a segment at a time), up to 8 s; an http(s) source starts at 8 s.
 */
export class SilenceJudge {
  readonly #floorMs: number;
  #lastFedAt = 0;
  #longestGapMs = 0;

  constructor(source: Source) {
    this.#floorMs = source.kind === 'url' && /^https?:/i.test(source.url) ? SILENCE_LONGEST_MS : SILENCE_FLOOR_MS;
  }

  /** `fedAt`: when the feed last got a frame; `now`: the same clock. Seconds of silence once lost, else 0. */
  judge(fedAt: number, now: number): number {
    if (fedAt !== this.#lastFedAt) {
      const gap = fedAt - this.#lastFedAt;
      if (this.#lastFedAt > 0 && gap < SILENCE_LONGEST_MS) this.#longestGapMs = Math.max(this.#longestGapMs, gap);
      this.#lastFedAt = fedAt;
    }
    const limit = Math.min(SILENCE_LONGEST_MS, Math.max(this.#floorMs, 2.5 * this.#longestGapMs));
    return now - fedAt > limit ? Math.round(limit / 100) / 10 : 0;
  }
}
