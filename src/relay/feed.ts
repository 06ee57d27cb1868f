import type { Readable } from 'node:stream';
import { headerKind, mediaKind } from '../rtmp/flv.js';
import { payloadLength, type RtmpMessage } from '../rtmp/message.js';
import { EncoderLeg } from './leg.js';
import { StreamStart } from './stream-start.js';
import { StreamTimeline } from './timeline.js';

/** What takes an encode's media: a destination's relay. */
export interface MediaSink {
  /** It joined the feed: `start` is what its sessions start from (headers, the frames since the latest keyframe). */
  joined(start: StreamStart): void;
  media(msg: RtmpMessage): void;
}

/** How long a leg being taken over from is still read: what its pipe holds comes at once; an ended one ends. */
const HANDOVER_MS = 100;
/** Messages a leg taking over may queue meanwhile (a few seconds at most). */
const MAX_HANDOVER_MESSAGES = 4096;
/** Audio a staged leg keeps from before its first keyframe, to fill the splice with (about a second). */
const EARLY_AUDIO = 48;

/** A late joiner gets at most this much of the current GOP (a long keyframe interval: it waits for the next one). */
const MAX_GOP_BYTES = 8 * 1024 * 1024;

/**
 * One encode's media, read once from its encoder's leg (a pipe only that ffmpeg can write) and handed to every
 * destination. Encoders come and go (a restart, the slate, a bitrate step): their legs are spliced into one stream
 * (see StreamTimeline), so a destination sees one timeline and one set of headers whoever encodes. Destinations come
 * and go too: each starts from the stream's start (StreamStart), on a picture, instead of waiting for a keyframe.
 */
export class MediaFeed {
  readonly #sinks = new Set<MediaSink>();
  #leg: EncoderLeg | undefined;
  readonly start = new StreamStart(MAX_GOP_BYTES);
  readonly #timeline: StreamTimeline;
  /** Media bytes the encoders have written (what `stats` shows as the encoder's bitrate). */
  bytes = 0;
  /** When the current leg last gave a message (performance.now()); 0 before its first. */
  lastMediaAt = 0;

  /** A message on the stream's timeline: kept for whoever starts later, and handed to every destination. */
  readonly #send = (msg: RtmpMessage): void => {
    this.start.keep(msg);
    for (const sink of this.#sinks) sink.media(msg);
  };

  /** `fps`: the encode's frame rate (how far after the last frame a new encoder's first goes, until measured). */
  constructor(
    fps: number,
    private readonly onFault: (reason: string) => void,
  ) {
    this.#timeline = new StreamTimeline(fps, this.#send);
  }

  /** A new encoder's leg (the first, or after a restart): the last one is closed; it goes on from its keyframe. */
  attach(stream: Readable): void {
    this.#take(new EncoderLeg(stream, (msg) => this.#fromLeg(msg), this.onFault));
  }

  /**
   * A new encoder's leg that takes over on its first keyframe: until then the current one goes on (the slate
   * keeps playing while the source's encoder starts, the source's last frames while the slate's starts). Its
   * headers and latest audio are kept meanwhile, its other frames dropped. `onTaken` once it is the feed's leg;
   * `onFault` if its FLV cannot be read before then. Returns the leg, to close if it is given up.
   */
  stage(stream: Readable, onTaken: () => void, onFault: (reason: string) => void): EncoderLeg {
    /** Before its first keyframe: its headers and latest audio, in order. */
    const early: RtmpMessage[] = [];
    /** From its first keyframe on, while the leg before it gives what it still holds. */
    let queue: RtmpMessage[] | undefined;
    /** Each handover started or called off: a later one supersedes it. */
    let handover = 0;
    const leg: EncoderLeg = new EncoderLeg(
      stream,
      (msg) => {
        if (this.#leg === leg) return this.#fromLeg(msg);
        if (queue) {
          if (queue.length < MAX_HANDOVER_MESSAGES) return void queue.push(msg);
          // more than the handover can hold (a huge burst): called off; it takes over on a later keyframe, with
          // the headers it sent
          for (const held of queue) if (headerKind(held)) keepEarly(early, held);
          queue = undefined;
          handover++;
        }
        const kind = mediaKind(msg);
        if (kind !== 'keyframe') {
          if (headerKind(msg) || kind === 'audio') keepEarly(early, msg);
          return;
        }
        queue = [...early, msg];
        early.length = 0;
        const mine = ++handover;
        // the leg before it is read to what it holds now (its last frames, when its encoder has ended), then
        // this one takes over from its keyframe
        const before = this.#leg;
        void (before ? before.readOut(HANDOVER_MS) : Promise.resolve()).then(() => {
          if (mine !== handover) return;
          // given up meanwhile: the leg before it goes on as the stream
          if (leg.closed) return before?.batch();
          this.#take(leg);
          leg.batch();
          for (const queued of queue!) this.#fromLeg(queued);
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
    this.#timeline.beginLeg();
    this.#leg = leg;
  }

  /** A destination joins: its sessions start from the stream's start, then it gets what comes. */
  subscribe(sink: MediaSink): void {
    this.#sinks.add(sink);
    sink.joined(this.start);
  }

  unsubscribe(sink: MediaSink): void {
    this.#sinks.delete(sink);
  }

  /** The stream ends: what the encoder left in the pipe is read (its end of sequence too), then it is closed. */
  async drain(): Promise<void> {
    const leg = this.#leg;
    await leg?.drain();
    if (leg === this.#leg) this.#timeline.end();
  }

  close(): void {
    this.#leg?.close();
  }

  #fromLeg(msg: RtmpMessage): void {
    this.bytes += payloadLength(msg);
    this.lastMediaAt = performance.now();
    this.#timeline.place(msg);
  }
}

/** A staged leg's headers (the latest of each) and its latest audio, in the order they came. */
function keepEarly(early: RtmpMessage[], msg: RtmpMessage): void {
  const kind = headerKind(msg);
  if (kind) {
    const same = early.findIndex((m) => headerKind(m) === kind);
    if (same >= 0) early.splice(same, 1);
  } else if (early.filter((m) => !headerKind(m)).length >= EARLY_AUDIO) {
    early.splice(
      early.findIndex((m) => !headerKind(m)),
      1,
    );
  }
  early.push(msg);
}
