import type { Progress } from '../ffmpeg/progress.js';
import type { Plan } from '../plan/plan.js';
import { type Source, slateCovers } from '../plan/source.js';
import { writeCard } from '../slate/card.js';
import type { DestinationBoard } from './board.js';
import type { SessionOptions } from './session.js';
import { type DirectorOutcome, SourceDirector } from './source-director.js';

/** Sources that can be lost and come back: the slate plays meanwhile (unless --slate-timeout 0). */
export function directed(plan: Plan): boolean {
  return plan.source.kind === 'listen' || (slateCovers(plan.source) && (plan.slate?.timeoutMs ?? 0) > 0);
}

/**
 * Sources whose encoder can be swapped for one at another bitrate while the first still runs: an ingest (fed to
 * both), a URL (opened twice), a screen. Not a camera (one process at a time), a file (it would start again) or
 * the test pattern and stdin (not directed).
 */
export function adaptive(plan: Plan): boolean {
  return directed(plan) && !plan.copy && ['listen', 'url', 'screen'].includes(plan.source.kind);
}

/**
 * `--source listen` (from the first publish on), a URL, a camera or a screen: the director runs the source's
 * encoders and the slate between them.
 */
export async function directSource(
  plan: Plan,
  opts: SessionOptions & {
    board: DestinationBoard;
    onProgress: (p: Progress) => void;
    onRestarter: (restart: (reason: string) => void) => void;
    onBitrate: (set: (kbps: number) => void) => void;
    onSpeed: (set: (steps: number) => void) => void;
  },
): Promise<DirectorOutcome> {
  const ingest = opts.ingest;
  const slate = plan.slate ?? { image: true, timeoutMs: 0 };
  // rtmpush's card is drawn when a slate first plays, at the slate's size
  const cards = new Map<string, { path: string; dispose: () => void }>();
  const slatePath = (width: number, height: number): string => {
    if (slate.path) return slate.path;
    const size = `${width}x${height}`;
    if (!cards.has(size)) cards.set(size, writeCard(width, height));
    return cards.get(size)!.path;
  };
  const source: Source = { kind: 'slate', path: slate.path ?? '', image: slate.image };
  try {
    const director = new SourceDirector({
      plan,
      slatePlan: { ...plan, source },
      slatePath,
      slateTimeoutMs: slate.timeoutMs,
      ...(plan.copy ? { copyFor: plan.destinations.flatMap((d) => (d.platform ? [d.platform] : [])) } : {}),
      ffmpeg: opts.ffmpeg,
      verbose: opts.verbose,
      watchdogMs: opts.watchdogMs,
      emit: opts.emit,
      signal: opts.signal,
      feed: opts.board.feed,
      onFirstPublish: () => opts.board.start(),
      // --record: each encoder that becomes the stream records on (a new file each time, as after a restart)
      onCurrent: (legs) => {
        const leg = legs[opts.board.feed.size];
        if (leg) opts.recorder?.attach(leg);
      },
      onProgress: opts.onProgress,
    });
    opts.onRestarter((reason) => director.restart(reason));
    opts.onBitrate((kbps) => director.setVideoKbps(kbps));
    opts.onSpeed((steps) => director.setX264Steps(steps));
    if (ingest) {
      ingest.warn = (message) => opts.emit({ type: 'warning', message });
      opts.emit({
        type: 'source',
        state: 'waiting',
        server: ingest.url,
        key: plan.ingest?.key ? 'the value of RTMPUSH_INGEST_KEY' : 'anything (set RTMPUSH_INGEST_KEY to require one)',
      });
      ingest.onPublish((publisher) => director.publish(publisher));
    }
    return await director.outcome();
  } finally {
    for (const card of cards.values()) card.dispose();
  }
}
