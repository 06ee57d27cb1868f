import type { Readable } from 'node:stream';
import { MediaFeed, type MediaSink } from './feed.js';

/** A staged encoder's legs, one per encode: closed together if it is given up. */
export interface StagedLegs {
  close(): void;
}

/**
 * One media feed per encode of the stream (`e1`, `e2`, …), in the order of the encoder's legs: a destination
 * subscribes to its encode's. An encoder's legs are attached together, or staged together: each feed switches on
 * its own leg's first keyframe (the encodes share the source's clock, so these come together), and the new encoder
 * has taken over once every feed has.
 */
export class FeedSet {
  readonly #feeds: Map<string, MediaFeed>;

  /** `encodes`: each encode's id and frame rate, in the order of the encoder's legs. */
  constructor(encodes: { id: string; fps: number }[], onFault: (reason: string) => void) {
    this.#feeds = new Map(encodes.map(({ id, fps }) => [id, new MediaFeed(fps, onFault)]));
  }

  get ids(): string[] {
    return [...this.#feeds.keys()];
  }

  /** How many of an encoder's legs carry encodes (the legs after them, the recording's, are not the feeds'). */
  get size(): number {
    return this.#feeds.size;
  }

  feed(id: string): MediaFeed {
    const feed = this.#feeds.get(id);
    if (!feed) throw new Error(`no encode ${id}`);
    return feed;
  }

  /** The main encode's feed: when the source last gave the stream something. */
  get lastMediaAt(): number {
    return this.#all()[0]!.lastMediaAt;
  }

  /** Media bytes every encode wrote, together. */
  get bytes(): number {
    return this.#all().reduce((sum, f) => sum + f.bytes, 0);
  }

  /** A new encoder (the first, or after a restart): each leg to its encode's feed. */
  attach(legs: Readable[]): void {
    for (const [i, feed] of this.#all().entries()) feed.attach(legs[i]!);
  }

  /**
   * A new encoder's legs, each taking over its feed on its own first keyframe. `onTaken` once every one has;
   * `onFault` (once) if any cannot be read before then.
   */
  stage(legs: Readable[], onTaken: () => void, onFault: (reason: string) => void): StagedLegs {
    let waiting = this.#feeds.size;
    let faulted = false;
    const staged = this.#all().map((feed, i) =>
      feed.stage(
        legs[i]!,
        () => --waiting === 0 && onTaken(),
        (reason) => {
          if (faulted) return;
          faulted = true;
          onFault(reason);
        },
      ),
    );
    return {
      close: () => {
        for (const leg of staged) leg.close();
      },
    };
  }

  subscribe(sink: MediaSink, id: string): void {
    this.feed(id).subscribe(sink);
  }

  unsubscribe(sink: MediaSink): void {
    for (const feed of this.#all()) feed.unsubscribe(sink);
  }

  /** Reads what the encoder left in every pipe (a clean stop), then closes them. */
  async drain(): Promise<void> {
    await Promise.all(this.#all().map((f) => f.drain()));
  }

  close(): void {
    for (const feed of this.#all()) feed.close();
  }

  #all(): MediaFeed[] {
    return [...this.#feeds.values()];
  }
}
