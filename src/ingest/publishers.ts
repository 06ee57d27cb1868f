import type { EncoderRun } from '../encoder/encoder-run.js';
import type { Platform } from '../platforms/table.js';
import type { CopiedStream } from './copy-check.js';
import { CopyRun } from './copy-run.js';
import { takeCopy } from './copy-take.js';
import type { IngestPublisher, IngestServer } from './server.js';
import { PublisherTap } from './tap.js';

/** What happens to publishers, in the source machine's terms (see source/machine.ts). */
export type PublisherEvent =
  | { type: 'publish'; publisher: number; at: number }
  | { type: 'ready'; publisher: number; audio: boolean; at: number }
  | { type: 'gone'; publisher: number; reason: string; at: number };

export interface PublishersOptions {
  /** `--copy`: each publisher's stream is judged against these platforms' rules and goes out as it is. */
  copyFor?: Platform[];
  /** A publisher with no video keyframe this long after publishing is cut off. */
  watchdogMs: number;
  warn: (message: string) => void;
  /** `--copy`: a publisher's stream met the rules (what it is), before it is `ready`. */
  accepted?: (stream: CopiedStream) => void;
  on: (event: PublisherEvent) => void;
}

interface Entry {
  publisher: IngestPublisher;
  /** Re-encoded: its media to each encoder reading it. */
  tap?: PublisherTap;
  /** `--copy`: its stream as a run, from its first keyframe on. */
  copy?: CopyRun;
}

/**
 * The ingest's publishers as the source supervisor sees them: each one that publishes is numbered and told about
 * (`publish`), `ready` once an encoder can start on it (its first keyframe; under `--copy`, its stream accepted),
 * `gone` when it leaves. The encoders the supervisor starts for it read it through its tap.
 */
export class Publishers {
  readonly #live = new Map<number, Entry>();
  #next = 1;

  constructor(
    server: IngestServer,
    private readonly opts: PublishersOptions,
  ) {
    server.warn = opts.warn;
    server.onPublish((publisher) => this.#publish(publisher));
  }

  /** An encoder started for a publisher reads its media from now on (its headers first). */
  feed(id: number, run: EncoderRun): void {
    const tap = this.#live.get(id)?.tap;
    if (!tap || !run.input) return;
    tap.add(run, run.input);
    void run.exited.then(() => tap.remove(run));
  }

  /** `--copy`: the publisher's accepted stream, as a run. */
  copyRun(id: number): CopyRun | undefined {
    return this.#live.get(id)?.copy;
  }

  close(id: number, reason?: string): void {
    this.#live.get(id)?.publisher.close(reason);
  }

  #publish(publisher: IngestPublisher): void {
    const id = this.#next++;
    const entry: Entry = { publisher };
    this.#live.set(id, entry);
    const { on } = this.opts;
    on({ type: 'publish', publisher: id, at: Date.now() });
    let noKeyframe: NodeJS.Timeout | undefined;
    if (this.opts.copyFor) {
      takeCopy(publisher, this.opts.copyFor, {
        warn: this.opts.warn,
        taken: (stream) => {
          entry.copy = new CopyRun();
          this.opts.accepted?.(stream);
          on({ type: 'ready', publisher: id, audio: true, at: Date.now() });
          return entry.copy;
        },
      });
    } else {
      // the publisher's media goes to every encoder of it (two while a swap is under way); the first starts at its
      // first keyframe, knowing whether audio comes with the video
      entry.tap = new PublisherTap(publisher, (audio) => {
        clearTimeout(noKeyframe);
        on({ type: 'ready', publisher: id, audio, at: Date.now() });
      });
      const seconds = Math.round(this.opts.watchdogMs / 1000);
      noKeyframe = setTimeout(
        () => publisher.close(`no video keyframe from the encoder in ${seconds} s`),
        this.opts.watchdogMs,
      );
    }
    void publisher.ended.then((reason) => {
      clearTimeout(noKeyframe);
      entry.tap?.end();
      void entry.copy?.stop();
      this.#live.delete(id);
      on({ type: 'gone', publisher: id, reason, at: Date.now() });
    });
  }
}
