import type { Writable } from 'node:stream';
import { headerKind } from '../rtmp/flv.js';
import type { RtmpMessage } from '../rtmp/message.js';
import { IngestInput } from './input.js';
import type { IngestPublisher } from './server.js';

/**
 * A publisher's media, to each encoder reading it (two while one takes over from the other: a bitrate change).
 * Keeps its latest metadata and codec headers, so an encoder that joins mid-stream starts with them and then its
 * next keyframe.
 */
export class PublisherTap {
  readonly #inputs = new Map<object, IngestInput>();
  readonly #headers = new Map<string, RtmpMessage>();

  constructor(publisher: IngestPublisher) {
    // what it sent before anyone took it (rtmpush was still starting) is sent once: its headers are kept
    for (const [kind, msg] of publisher.headers) this.#headers.set(kind, msg);
    publisher.onMedia = (msg) => {
      const kind = headerKind(msg);
      if (kind) this.#headers.set(kind, msg);
      for (const input of this.#inputs.values()) input.write(msg);
    };
  }

  /** An encoder's input pipe, fed from now on until `remove(owner)`. */
  add(owner: object, pipe: Writable): void {
    const input = new IngestInput(pipe, { fromKeyframe: this.#inputs.size > 0 });
    for (const header of this.#headers.values()) input.write(header);
    this.#inputs.set(owner, input);
  }

  remove(owner: object): void {
    this.#inputs.delete(owner);
  }

  /** The publisher has gone: each encoder reads to the end and exits. */
  end(): void {
    for (const input of this.#inputs.values()) input.end();
  }
}
