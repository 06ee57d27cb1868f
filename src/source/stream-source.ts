import type { Readable } from 'node:stream';
import type { Progress } from '../ffmpeg/progress.js';
import { Publishers } from '../ingest/publishers.js';
import type { IngestServer } from '../ingest/server.js';
import type { Plan } from '../plan/plan.js';
import type { Platform } from '../platforms/table.js';
import type { FeedSet } from '../relay/feeds.js';
import type { Emit } from '../run/events.js';
import { RunFactory } from './runs.js';
import { setupFor } from './setup.js';
import { SilenceJudge } from './silence.js';
import { SlateCards } from './slate-cards.js';
import { type SourceOutcome, SourceSupervisor } from './supervisor.js';

export interface StreamSourceOptions {
  plan: Plan;
  ffmpeg: string;
  verbose: boolean;
  emit: Emit;
  /** Aborting stops the stream gracefully. */
  signal: AbortSignal;
  watchdogMs: number;
  /** The encodes' feeds the runs' legs go to. */
  feed: FeedSet;
  /** `--source listen`: the server encoders publish to (listening already). */
  ingest?: IngestServer;
  /** The destinations start dialling. */
  onDestinations: () => void;
  /** A run has become the stream: its legs (the recording's after the feeds'). */
  onCurrent: (legs: Readable[]) => void;
  onProgress: (p: Progress) => void;
}

/**
 * The stream's source, started: the supervisor of its encoders (and the slate), the factory that makes them, and
 * for an ingest its publishers. `done` once the stream has ended, whatever ended it.
 */
export function startSource(o: StreamSourceOptions): { supervisor: SourceSupervisor; done: Promise<SourceOutcome> } {
  const { plan, emit } = o;
  const cards = new SlateCards(plan.slate?.path);
  const factory = new RunFactory({
    plan,
    slatePath: (width, height) => cards.path(width, height),
    ffmpeg: o.ffmpeg,
    ...(o.verbose ? { onLog: (line: string) => emit({ type: 'log', line }) } : {}),
    onProgress: o.onProgress,
  });
  let publishers: Publishers | undefined;
  const supervisor = new SourceSupervisor({
    setup: setupFor(plan, o.watchdogMs),
    makeRun: (run, context) => factory.make(run, context),
    feed: o.feed,
    silence: new SilenceJudge(plan.source),
    emit,
    signal: o.signal,
    onDestinations: o.onDestinations,
    onCurrent: o.onCurrent,
    closePublisher: (id, reason) => publishers?.close(id, reason),
  });
  if (o.ingest) {
    emit({
      type: 'source',
      state: 'waiting',
      server: o.ingest.url,
      key: plan.ingest?.key ? 'the value of RTMPUSH_INGEST_KEY' : 'anything (set RTMPUSH_INGEST_KEY to require one)',
    });
    const copyFor = plan.copy ? plan.destinations.flatMap((d) => (d.platform ? [d.platform] : [])) : undefined;
    publishers = new Publishers(o.ingest, {
      ...(copyFor ? { copyFor: copyFor as Platform[] } : {}),
      watchdogMs: o.watchdogMs,
      warn: (message) => emit({ type: 'warning', message }),
      accepted: (stream) => {
        factory.accepted(stream);
        emit({ type: 'copy', ...stream });
      },
      on: (event) => supervisor.dispatch(event),
    });
    factory.publishers = publishers;
  }
  supervisor.start();
  const done = supervisor.outcome().finally(() => cards.dispose());
  return { supervisor, done };
}
