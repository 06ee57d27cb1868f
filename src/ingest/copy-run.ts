import { PassThrough, type Readable } from 'node:stream';
import type { RunExit, SourceRun } from '../encoder/run.js';
import type { Progress } from '../ffmpeg/progress.js';
import { asFlvTag, FLV_FILE_HEADER, headerKind, mediaKind } from '../rtmp/flv.js';
import { payloadLength, type RtmpMessage } from '../rtmp/message.js';
import { TrackClock } from './track-clock.js';

/** The frame rate is read over this much of the stream's own time (a burst of held frames is not a rate). */
const FPS_WINDOW_MS = 2000;

/**
 * `--copy`: the publisher's stream as the feed reads an encoder's: an FLV leg, written by rtmpush instead of
 * ffmpeg, so it takes over and is taken over (by the slate) exactly as an encoder is. No ffmpeg, no re-encoding;
 * progress (frames, bitrate) is counted here, once a second, from the stream's own timestamps.
 */
export class CopyRun implements SourceRun {
  readonly #leg = new PassThrough({ highWaterMark: 1024 * 1024 });
  readonly legs: Readable[] = [this.#leg];
  readonly input = undefined;
  readonly exited: Promise<RunExit>;
  readonly lastError: string | undefined = undefined;
  lastProgressAt = Date.now();
  /** Its progress, once a second (the supervisor's: only the stream's run reports). */
  onProgress: (p: Progress) => void = () => {};
  #exit: (exit: RunExit) => void = () => {};
  #running = true;
  #frames = 0;
  #bytes = 0;
  #firstTs: number | undefined;
  #lastTs = 0;
  /** The latest frames' timestamps, over the last FPS_WINDOW_MS of the stream. */
  #recent: number[] = [];
  readonly #ticker: NodeJS.Timeout;
  readonly #clock = new TrackClock();

  constructor() {
    this.exited = new Promise((resolve) => (this.#exit = resolve));
    this.#leg.write(FLV_FILE_HEADER);
    // the reader never pushes back on the publisher: a leg that cannot be read is the feed's fault to report
    this.#leg.on('error', () => {});
    const startedAt = Date.now();
    this.#ticker = setInterval(() => {
      const outTimeMs = this.#lastTs - (this.#firstTs ?? this.#lastTs);
      const wallS = (Date.now() - startedAt) / 1000;
      this.onProgress({
        frame: this.#frames,
        fps: this.#fps(),
        bitrateKbps: outTimeMs > 0 ? Math.round((this.#bytes * 8) / outTimeMs) : null,
        totalSize: this.#bytes,
        outTimeMs,
        dupFrames: 0,
        droppedFrames: 0,
        speed: wallS > 0 ? Math.round((outTimeMs / 1000 / wallS) * 100) / 100 : null,
        done: false,
      });
    }, 1000);
  }

  get running(): boolean {
    return this.#running;
  }

  write(msg: RtmpMessage): void {
    if (!this.#running) return;
    this.lastProgressAt = Date.now();
    const kind = mediaKind(msg);
    // the publisher's clock made safe first (it only rises, a second a step at most): none is re-encoding it
    const timestamp = headerKind(msg) ? this.#clock.latest : this.#clock.time(msg);
    if (kind === 'keyframe' || kind === 'frame') {
      this.#frames++;
      this.#firstTs ??= timestamp;
      this.#lastTs = Math.max(this.#lastTs, timestamp);
      this.#recent.push(timestamp);
      while (this.#recent.length > 2 && timestamp - this.#recent[0]! > FPS_WINDOW_MS) this.#recent.shift();
    }
    this.#bytes += payloadLength(msg);
    this.#leg.write(asFlvTag(msg, timestamp));
  }

  /** Frames a second of the stream's own time (its first GOP, held and written at once, is not 200 fps). */
  #fps(): number {
    const recent = this.#recent;
    if (recent.length < 2) return 0;
    const spanMs = recent.at(-1)! - recent[0]!;
    return spanMs > 0 ? Math.round(((recent.length - 1) * 1000 * 10) / spanMs) / 10 : 0;
  }

  /** The publisher has gone, or the slate took over: the leg ends. */
  stop(): Promise<RunExit> {
    if (this.#running) {
      this.#running = false;
      clearInterval(this.#ticker);
      this.#leg.end();
      this.#exit({ exitCode: 0, signal: undefined });
    }
    return this.exited;
  }

  kill(): void {
    void this.stop();
  }
}
