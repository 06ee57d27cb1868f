import type { Writable } from 'node:stream';
import { headerKind, mediaKind } from '../rtmp/flv.js';
import { MSG, type RtmpMessage } from '../rtmp/message.js';
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
  #audio = false;
  #ready = false;

  /**
   * `onReady` at the publisher's first video keyframe, before it is passed on (an encoder added then starts with
   * it), saying whether audio came with it: an encoder is started only for a stream it can read.
   */
  constructor(publisher: IngestPublisher, onReady: (audio: boolean) => void) {
    // what it sent before anyone took it (rtmpush was still starting) is sent once: its headers are kept
    for (const [kind, msg] of publisher.headers) this.#headers.set(kind, msg);
    publisher.onMedia = (msg) => {
      const kind = headerKind(msg);
      if (kind) this.#headers.set(kind, msg);
      if (msg.typeId === MSG.Audio) this.#audio = true;
      if (!this.#ready && mediaKind(msg) === 'keyframe') {
        this.#ready = true;
        onReady(this.#audio || this.#headers.has('audio'));
      }
      for (const input of this.#inputs.values()) input.write(msg);
    };
  }

  /** The first keyframe came (an encoder can be started). */
  get ready(): boolean {
    return this.#ready;
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
