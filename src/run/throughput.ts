/** Delivered kbps from a byte counter sampled over time: the slope over the last few seconds. */
export class ThroughputMeter {
  readonly #samples: { at: number; bytes: number }[] = [];

  constructor(private readonly windowMs = 6000) {}

  add(at: number, bytes: number): void {
    const last = this.#samples[this.#samples.length - 1];
    if (last && at === last.at) return;
    // a new upstream session restarts the counter
    if (last && bytes < last.bytes) this.#samples.length = 0;
    this.#samples.push({ at, bytes });
    while (this.#samples.length > 2 && this.#samples[0]!.at < at - this.windowMs) this.#samples.shift();
  }

  kbps(): number | null {
    const first = this.#samples[0];
    const last = this.#samples[this.#samples.length - 1];
    if (!first || !last || last.at - first.at < 2000) return null;
    return Math.round(((last.bytes - first.bytes) * 8) / (last.at - first.at));
  }
}
