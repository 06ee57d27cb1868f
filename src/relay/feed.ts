import type { Readable } from 'node:stream';
import { headerKind, isVideoKeyframe } from '../rtmp/flv.js';
import { MSG, payloadHead, payloadLength, type RtmpMessage } from '../rtmp/message.js';
import { GopCache } from './gop.js';
import { EncoderLeg } from './leg.js';

/** What takes the encoder's media: a destination's relay. */
export interface MediaSink {
  /** A new encoder: its clock starts again. */
  encoderStarted(): void;
  media(msg: RtmpMessage): void;
}

/** How long a leg being taken over from is still read: what its pipe holds comes at once; an ended one ends. */
const HANDOVER_MS = 100;
/** Messages a leg taking over may queue meanwhile (a few seconds at most). */
const MAX_HANDOVER_MESSAGES = 4096;

/** A late joiner gets at most this much of the current GOP (a long keyframe interval: it waits for the next one). */
const MAX_GOP_BYTES = 8 * 1024 * 1024;

/**
 * The encoder's media, read once from its leg (a pipe only that ffmpeg can write) and handed to every destination.
 * Destinations come and go while the encoder runs: one that joins is first given the metadata, the codec headers
 * and the frames since the latest keyframe, so it can go live at once instead of waiting for the next keyframe.
 */
export class MediaFeed {
  readonly #sinks = new Set<MediaSink>();
  #leg: EncoderLeg | undefined;
  #headers = new Map<string, RtmpMessage>();
  readonly #gop = new GopCache(MAX_GOP_BYTES);
  /** Media bytes the encoders have written (what `stats` shows as the encoder's bitrate). */
  bytes = 0;
  /** When the current leg last gave a message (performance.now()); 0 before its first. */
  lastMediaAt = 0;

  constructor(private readonly onFault: (reason: string) => void) {}

  /** A new encoder's leg (the first, or after a restart): the last one is closed. */
  attach(stream: Readable): void {
    this.#take(new EncoderLeg(stream, (msg) => this.#onMedia(msg), this.onFault));
  }

  /**
   * A new encoder's leg that takes over on its first keyframe: until then the current one goes on (the slate
   * keeps playing while the source's encoder starts, the source's last frames while the slate's starts). Its
   * headers are kept meanwhile, its other frames dropped. `onTaken` once it is the feed's leg; `onFault` if its
   * FLV cannot be read before then. Returns the leg, to close if it is given up.
   */
  stage(stream: Readable, onTaken: () => void, onFault: (reason: string) => void): EncoderLeg {
    const headers = new Map<string, RtmpMessage>();
    /** From its first keyframe on, while the leg before it gives what it still holds. */
    let queue: RtmpMessage[] | undefined;
    const leg: EncoderLeg = new EncoderLeg(
      stream,
      (msg) => {
        if (this.#leg === leg) return this.#onMedia(msg);
        if (queue) return void (queue.length < MAX_HANDOVER_MESSAGES && queue.push(msg));
        const kind = headerKind(msg);
        if (kind) return void headers.set(kind, msg);
        if (msg.typeId !== MSG.Video || !isVideoKeyframe(payloadHead(msg))) return;
        queue = [...headers.values(), msg];
        // the leg before it is read to what it holds now (its last frames, when its encoder has ended), then
        // this one takes over from its keyframe
        const before = this.#leg;
        void (before ? before.drain(HANDOVER_MS) : Promise.resolve()).then(() => {
          if (leg.closed) return;
          this.#take(leg);
          leg.batch();
          for (const queued of queue!) this.#onMedia(queued);
          queue = undefined;
          onTaken();
        });
      },
      (reason) => (this.#leg === leg ? this.onFault(reason) : onFault(reason)),
      // until it takes over, every write is read at once: its first keyframe is not kept waiting by a rest
      0,
    );
    return leg;
  }

  #take(leg: EncoderLeg): void {
    this.lastMediaAt = 0;
    this.#leg?.close();
    this.#headers.clear();
    this.#gop.clear();
    for (const sink of this.#sinks) sink.encoderStarted();
    this.#leg = leg;
  }

  /** A destination joins: it is told an encoder runs and given what it needs to start on a keyframe. */
  subscribe(sink: MediaSink): void {
    this.#sinks.add(sink);
    if (!this.#leg) return;
    sink.encoderStarted();
    for (const msg of this.#headers.values()) sink.media(msg);
    for (const msg of this.#gop.messages) sink.media(msg);
  }

  unsubscribe(sink: MediaSink): void {
    this.#sinks.delete(sink);
  }

  /** Reads what the encoder left in the pipe (a clean stop), then closes it. */
  async drain(): Promise<void> {
    await this.#leg?.drain();
  }

  close(): void {
    this.#leg?.close();
  }

  #onMedia(msg: RtmpMessage): void {
    this.bytes += payloadLength(msg);
    this.lastMediaAt = performance.now();
    this.#keep(msg);
    for (const sink of this.#sinks) sink.media(msg);
  }

  #keep(msg: RtmpMessage): void {
    const kind = headerKind(msg);
    if (kind) this.#headers.set(kind, msg);
    else this.#gop.keep(msg);
  }
}
