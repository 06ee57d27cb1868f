import { writeCard } from '../slate/card.js';

/**
 * The slate's picture at each size a slate plays at: `--slate FILE` as it is, else rtmpush's card, drawn when a
 * slate first plays at that size and removed when the stream ends.
 */
export class SlateCards {
  readonly #cards = new Map<string, { path: string; dispose: () => void }>();

  constructor(private readonly file?: string) {}

  path(width: number, height: number): string {
    if (this.file) return this.file;
    const size = `${width}x${height}`;
    if (!this.#cards.has(size)) this.#cards.set(size, writeCard(width, height));
    return this.#cards.get(size)!.path;
  }

  dispose(): void {
    for (const card of this.#cards.values()) card.dispose();
    this.#cards.clear();
  }
}
