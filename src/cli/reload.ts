import { UsageError } from '../errors.js';
import type { Destination } from '../platforms/destinations.js';
import { describeSource } from '../plan/source.js';
import type { Plan } from '../plan/plan.js';
import type { RawStreamFlags, ResolveEnv, ResolvedStream } from './options.js';
import { resolveStream } from './options.js';

/**
 * What the operator chose for the encode, in words: the preset and what it makes, the source, the audio. Bitrates
 * are left out: the platforms' caps and the uplink's share per destination move them with the destinations.
 */
function encodeOf(plan: Plan): string {
  const { video: v, audio: a } = plan;
  return (
    `${plan.preset} ${v.width}x${v.height}@${v.fps} keyframe ${v.keyintSeconds} s ` +
    `from ${describeSource(plan.source)}, AAC ${a.sampleRate} Hz ${a.channels === 2 ? 'stereo' : 'mono'}`
  );
}

/**
 * How a reload reads the config again: the file the stream started with (never another one found since, which
 * another user may have put in the working folder), with the same flags and environment. The destinations it gives
 * are applied; what would change the encode waits for the next start, with a warning. `current` is what the
 * control API resolves `add` against.
 */
export class ConfigReader {
  #candidate: ResolvedStream | undefined;
  /** The encode the stream runs: set once, at start. */
  #running: string;

  constructor(
    private readonly flags: RawStreamFlags,
    private readonly ctx: ResolveEnv,
    public current: ResolvedStream,
    private readonly warn: (message: string) => void,
  ) {
    this.#running = encodeOf(current.plan);
  }

  /** The stream starts with this resolution (made again after an uplink measurement). */
  started(resolved: ResolvedStream): void {
    this.current = resolved;
    this.#running = encodeOf(resolved.plan);
  }

  read(): Destination[] {
    if (this.flags.rehearse) throw new UsageError('a rehearsal streams to the embedded server only');
    const file = this.current.config.file;
    if (!file) throw new UsageError('the stream started without a config file: there is none to read again');
    // the recording is under way: its file exists now, and is not the config's to change
    const next = resolveStream({ ...this.flags, config: file, record: undefined }, this.ctx);
    const listed = this.flags.to.length > 0 ? '--to' : this.ctx.env.RTMPUSH_TO ? 'RTMPUSH_TO' : undefined;
    if (listed && next.config.config.defaults?.to)
      this.warn(
        `reload: the destinations are the ones ${listed} named at start; the config's defaults.to is not used ` +
          '(their definitions in the config are); start without it for the config to choose them',
      );
    const after = encodeOf(next.plan);
    if (after !== this.#running)
      this.warn(
        `reload: this config would encode ${after}; the stream goes on with ${this.#running} until the next ` +
          'start (only destinations change while streaming)',
      );
    this.#candidate = next;
    return [...next.plan.destinations];
  }

  applied(): void {
    if (this.#candidate) this.current = this.#candidate;
    this.#candidate = undefined;
  }
}
