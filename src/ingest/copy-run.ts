import { PassThrough, type Readable } from 'node:stream';
import type { Progress } from '../ffmpeg/progress.js';
import { asFlvTag, FLV_FILE_HEADER, headerKind } from '../rtmp/flv.js';
import { MSG, payloadLength, type RtmpMessage } from '../rtmp/message.js';
import type { FfmpegExit } from '../run/ffmpeg-process.js';

/**
 * `--copy`: the publisher's stream as the feed reads an encoder's: an FLV leg, written by rtmpush instead of
 * ffmpeg, so it takes over and is taken over (by the slate) exactly as an encoder is. No ffmpeg, no re-encoding;
 * progress (frames, bitrate) is counted here, once a second.
 */
export class CopyRun {
  readonly #leg = new PassThrough({ highWaterMark: 1024 * 1024 });
  readonly legs: Readable[] = [this.#leg];
  readonly input = undefined;
  readonly exited: Promise<FfmpegExit>;
  lastError: string | undefined;
  lastProgressAt = Date.now();
  #exit: (exit: FfmpegExit) => void = () => {};
  #running = true;
  #frames = 0;
  #bytes = 0;
  #firstTs: number | undefined;
  #lastTs = 0;
  readonly #ticker: NodeJS.Timeout;
  readonly #startedAt = Date.now();

  constructor(onProgress: (p: Progress) => void) {
    this.exited = new Promise((resolve) => (this.#exit = resolve));
    this.#leg.write(FLV_FILE_HEADER);
    // the reader never pushes back on the publisher: a leg that cannot be read is the feed's fault to report
    this.#leg.on('error', () => {});
    this.#ticker = setInterval(() => {
      const outTimeMs = this.#lastTs - (this.#firstTs ?? this.#lastTs);
      const wallS = (Date.now() - this.#startedAt) / 1000;
      onProgress({
        frame: this.#frames,
        fps: wallS > 0 ? Math.round((this.#frames / wallS) * 10) / 10 : 0,
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
    if (msg.typeId === MSG.Video && !headerKind(msg)) {
      this.#frames++;
      this.#firstTs ??= msg.timestamp;
      this.#lastTs = Math.max(this.#lastTs, msg.timestamp);
    }
    this.#bytes += payloadLength(msg);
    this.#leg.write(asFlvTag(msg));
  }

  /** The publisher has gone, or the slate took over: the leg ends. */
  stop(): Promise<FfmpegExit> {
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
