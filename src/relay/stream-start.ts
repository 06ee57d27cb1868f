import { headerKind, mediaKind } from '../rtmp/flv.js';
import { payloadLength, type RtmpMessage } from '../rtmp/message.js';

/**
 * What a stream starts from: its latest metadata and codec headers, and the media since its latest video keyframe
 * (a group of pictures), so whoever starts late (a destination added, a session dialled again, an encoder joining a
 * publisher) starts on a picture instead of waiting for the next one. Past `maxGopBytes` the group is dropped until
 * the next keyframe: a long keyframe interval does not grow it. The one place a stream's start is kept.
 */
export class StreamStart {
  readonly headers = new Map<'meta' | 'video' | 'audio', RtmpMessage>();
  #gop: RtmpMessage[] = [];
  #gopBytes = 0;

  constructor(private readonly maxGopBytes: number) {}

  /** The media since the latest keyframe, that keyframe first (empty before one, or past the bound). */
  get gop(): readonly RtmpMessage[] {
    return this.#gop;
  }

  get gopBytes(): number {
    return this.#gopBytes;
  }

  /** Headers first, then the group of pictures: everything a new session sends before what comes next. */
  get messages(): RtmpMessage[] {
    return [...this.headers.values(), ...this.#gop];
  }

  keep(msg: RtmpMessage): void {
    const header = headerKind(msg);
    if (header) return void this.headers.set(header, msg);
    const kind = mediaKind(msg);
    if (kind === 'keyframe') this.#clearGop();
    else if (this.#gop.length === 0 || kind === 'end' || kind === 'other') return;
    this.#gop.push(msg);
    this.#gopBytes += payloadLength(msg);
    if (this.#gopBytes > this.maxGopBytes) this.#clearGop();
  }

  /** Forgets the group of pictures (the headers stay: a stream's start needs them whatever comes next). */
  #clearGop(): void {
    this.#gop = [];
    this.#gopBytes = 0;
  }
}
