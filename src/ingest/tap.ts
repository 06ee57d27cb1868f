import type { Writable } from 'node:stream';
import { mediaKind } from '../rtmp/flv.js';
import { MSG } from '../rtmp/message.js';
import { IngestInput } from './input.js';
import type { IngestPublisher } from './server.js';

/**
 * A publisher's media, to each encoder reading it (two while one takes over from the other: a bitrate change). An
 * encoder that joins mid-stream starts with the publisher's latest metadata and codec headers (its stream start)
 * and then its next keyframe.
 */
export class PublisherTap {
  readonly #inputs = new Map<object, IngestInput>();
  #audio = false;
  #ready = false;

  /**
   * `onReady` at the publisher's first video keyframe, before it is passed on (an encoder added then starts with
   * it), saying whether audio came with it: an encoder is started only for a stream it can read.
   */
  constructor(
    private readonly publisher: IngestPublisher,
    onReady: (audio: boolean) => void,
  ) {
    publisher.onMedia = (msg) => {
      if (msg.typeId === MSG.Audio) this.#audio = true;
      if (!this.#ready && mediaKind(msg) === 'keyframe') {
        this.#ready = true;
        onReady(this.#audio || publisher.start.headers.has('audio'));
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
    // what it sent before anyone took it (rtmpush was still starting) was sent once: its stream start kept it
    for (const header of this.publisher.start.headers.values()) input.write(header);
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
