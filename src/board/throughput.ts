/** Acknowledgements this long overdue: the link went quiet (they come in lumps a second or two apart on a slow one). */
const QUIET_MS = 2500;

/**
 * Delivered kbps from a byte counter sampled over time. A slow link's acknowledgements arrive in lumps (gaps of
 * seconds, then several at once), so the figure is a least-squares slope over the last `windowMs`, anchored on the
 * last sample before the window: two end points alone swing by half with where the lumps fall.
 */
export class ThroughputMeter {
  readonly #samples: { at: number; bytes: number }[] = [];

  constructor(private readonly windowMs = 10_000) {}

  add(at: number, bytes: number): void {
    const last = this.#samples[this.#samples.length - 1];
    if (last && at === last.at) return;
    // a new upstream session restarts the counter
    if (last && bytes < last.bytes) this.#samples.length = 0;
    this.#samples.push({ at, bytes });
    // keep one sample older than the window as its anchor
    while (this.#samples.length > 2 && this.#samples[1]!.at <= at - this.windowMs) this.#samples.shift();
  }

  /**
   * Null with fewer than two samples; the rate between the two ends until they span 2 s; then the slope. Over the
   * last `windowMs` when that is shorter than the meter's window, anchored on the last sample before it, and only
   * with at least 3 samples inside it (else null): one lump of acknowledgements after a gap is not a rate.
   */
  kbps(windowMs = this.windowMs): number | null {
    const all = this.#samples;
    if (all.length < 2 || !(windowMs > 0)) return null;
    let s = all;
    if (windowMs < this.windowMs) {
      const from = all[all.length - 1]!.at - windowMs;
      let first = all.length - 1;
      while (first > 0 && all[first - 1]!.at >= from) first--;
      if (all.length - first < 3 || first === 0) return null;
      s = all.slice(first - 1);
    }
    const n = s.length;
    if (n < 2) return null;
    const span = s[n - 1]!.at - s[0]!.at;
    if (span < 2000) return Math.round(((s[n - 1]!.bytes - s[0]!.bytes) / span) * 8);
    let meanAt = 0;
    let meanBytes = 0;
    for (const x of s) {
      meanAt += x.at / n;
      meanBytes += x.bytes / n;
    }
    let num = 0;
    let den = 0;
    for (const x of s) {
      num += (x.at - meanAt) * (x.bytes - meanBytes);
      den += (x.at - meanAt) ** 2;
    }
    return Math.round((num / den) * 8);
  }

  /**
   * The rate over the last `windowMs` as it stands at `now`: between the latest sample and the last one at least
   * `windowMs` before it (a lump of acknowledgements after a gap is averaged over the gap), or, when the latest is
   * over 2.5 s old (they stopped coming), up to `now` itself, so a link that went quiet reads low. Null without a
   * sample that old (a session just begun).
   */
  kbpsAt(now: number, windowMs: number): number | null {
    const all = this.#samples;
    const last = all[all.length - 1];
    if (!last || all.length < 2) return null;
    const until = now - last.at > QUIET_MS ? now : last.at;
    let i = all.length - 2;
    while (i >= 0 && all[i]!.at > until - windowMs) i--;
    if (i < 0) return null;
    // the count at the window's start, read between the samples around it: a window stretched back to the sample
    // before it would mix in seconds from before a link fell
    const from = until - windowMs;
    const anchor = all[i]!;
    const next = all[i + 1]!;
    const span = next.at - anchor.at;
    const bytes =
      span > 0 && next !== last
        ? anchor.bytes + ((next.bytes - anchor.bytes) * (from - anchor.at)) / span
        : anchor.bytes;
    const at = span > 0 && next !== last ? from : anchor.at;
    const kbps = ((last.bytes - bytes) * 8) / (until - at);
    // a clock that stepped back, samples out of order: no figure rather than a wrong one
    return Number.isFinite(kbps) && kbps >= 0 && until > at ? Math.round(kbps) : null;
  }
}
