import { UsageError } from '../errors.js';
import type { Destination } from '../platforms/destinations.js';
import { describeSource } from '../plan/source.js';
import type { Plan } from '../plan/plan.js';
import type { RawStreamFlags, ResolveEnv, ResolvedStream } from './options.js';
import { resolveStream } from './options.js';

/** What the encoder was started with, in words: a reload cannot change it without a restart of the encode. */
function encodeOf(plan: Plan): string {
  const { video: v, audio: a } = plan;
  return (
    `${plan.preset} ${describeSource(plan.source)} ${v.width}x${v.height}@${v.fps} ${v.kbps} kbps ` +
    `keyframe ${v.keyintSeconds} s, AAC ${a.kbps} kbps ${a.sampleRate} Hz`
  );
}

/**
 * How SIGHUP reads the config again: the same flags and environment as at start, the config file as it is now.
 * The destinations it gives are applied; what would change the encode (preset, source, bitrates, caps) waits for
 * the next start, with a warning. `current` is what the control API resolves `add` against.
 */
export class ConfigReader {
  #candidate: ResolvedStream | undefined;

  constructor(
    private readonly flags: RawStreamFlags,
    private readonly ctx: ResolveEnv,
    public current: ResolvedStream,
    private readonly warn: (message: string) => void,
  ) {}

  read(): Destination[] {
    if (this.flags.rehearse) throw new UsageError('a rehearsal streams to the embedded server only');
    // the recording is under way: its file exists now, and is not the config's to change
    const next = resolveStream({ ...this.flags, record: undefined }, this.ctx);
    const before = encodeOf(this.current.plan);
    const after = encodeOf(next.plan);
    if (before !== after)
      this.warn(
        `reload: with this config the encode would be ${after}; it stays ${before} until the next start ` +
          '(only destinations change while streaming)',
      );
    this.#candidate = next;
    return next.plan.destinations;
  }

  applied(): void {
    if (this.#candidate) this.current = this.#candidate;
    this.#candidate = undefined;
  }
}
