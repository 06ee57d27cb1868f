import { UsageError } from '../errors.js';
import type { Destination } from '../platforms/destinations.js';
import type { DestinationBoard } from '../board/board.js';
import type { Emit } from './events.js';
import { publishKey } from '../platforms/destinations.js';
import { formatReload } from '../report/format.js';

/** What a reload changes on the board, by label. */
export interface DestinationDiff {
  /** Labels the board does not have. */
  add: Destination[];
  /** Labels the board has that now publish somewhere else (another URL or key): unpublished, then added again. */
  replace: Destination[];
  /** Labels the config named last time and names no more. */
  remove: string[];
}

/**
 * What a reload changes: the difference between the destinations the config gave last time (`previous`, label →
 * where it publishes) and the ones it gives now, applied to what the board runs. A label the config names as it did
 * is left as the operator left it (removed or added through the control API included); a new or changed one is
 * added, or replaced where the board has it elsewhere; one the config no longer names is removed. Throws UsageError
 * when the new set cannot be applied while streaming; then nothing is changed.
 */
export function diffDestinations(
  previous: ReadonlyMap<string, string>,
  next: readonly Destination[],
  board: ReadonlyMap<string, string>,
): DestinationDiff {
  const named = new Set(next.map((d) => d.label));
  const diff: DestinationDiff = {
    add: [],
    replace: [],
    remove: [...previous.keys()].filter((l) => board.has(l) && !named.has(l)),
  };
  for (const d of next) {
    const running = board.get(d.label);
    if (d.kind === 'local') {
      // the embedded server's port is chosen at start: `local` is kept as it is, and never added later
      if (running === undefined && !previous.has(d.label))
        throw new UsageError('local cannot be added to a running stream');
    } else if (previous.get(d.label) === publishKey(d)) continue;
    else if (running === undefined) diff.add.push(d);
    else if (running !== publishKey(d)) diff.replace.push(d);
  }
  const leaving = new Set([...diff.remove, ...diff.replace.map((d) => d.label)]);
  for (const d of [...diff.add, ...diff.replace]) {
    const other = [...board].find(([l, key]) => !leaving.has(l) && key === publishKey(d));
    if (other) throw new UsageError(`${d.label}: ${other[0]} already publishes there with that key`);
  }
  return diff;
}

/** What one reload did: the labels changed, or why nothing was (400: the config; 409: the stream's state). */
export type ReloadOutcome =
  | { ok: true; added: string[]; removed: string[]; replaced: string[] }
  | { ok: false; status: 400 | 409; error: string };

export interface ReloaderOptions {
  /** The destinations the config gave at start. */
  initial: readonly Destination[];
  /** Reads the config again: the destinations it gives now. Throws UsageError for a config that does not validate. */
  read: () => Destination[];
  emit: Emit;
  /** The destinations read last were applied (in full). */
  onApplied?: () => void;
}

const keyed = (ds: readonly Destination[]) => new Map(ds.map((d) => [d.label, publishKey(d)]));
const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/**
 * SIGHUP (or `rtmpush reload`): the config is read again and the difference in destinations applied to the running
 * stream, one reload at a time. A config that does not validate changes nothing and is reported as an `error` event.
 */
export class Reloader {
  /** What the config gave, as far as it was applied: a reload stopped part way is taken up by the next. */
  #previous: Map<string, string>;
  /** Each destination's own setting (preset, videoBitrate, encoder) as it was last read. */
  readonly #own = new Map<string, string>();
  #board: DestinationBoard | undefined;
  #pending = false;
  #closed = false;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly o: ReloaderOptions) {
    this.#previous = keyed(o.initial);
    for (const d of o.initial) this.#own.set(d.label, JSON.stringify(d.own ?? {}));
  }

  /** The stream's destinations exist: a reload asked for while starting runs now. */
  attach(board: DestinationBoard): void {
    this.#board = board;
    if (this.#pending) void this.reload();
  }

  /** The stream is stopping: nothing is reloaded from now on. */
  close(): void {
    this.#closed = true;
  }

  /**
   * Settles once this reload (after any before it) is done; never rejects. `whileStarting` (SIGHUP): asked before
   * the destinations exist, it runs once they do; the API is told to ask again instead.
   */
  reload({ whileStarting = false } = {}): Promise<ReloadOutcome> {
    if (this.#closed || this.#board?.closing) return Promise.resolve(STOPPING);
    if (!this.#board) {
      if (whileStarting) this.#pending = true;
      return Promise.resolve({ ok: false, status: 409, error: 'the stream is still starting; try again in a moment' });
    }
    this.#pending = false;
    const board = this.#board;
    const done = this.#queue
      .then(() => this.#apply(board))
      .catch((error: unknown): ReloadOutcome => ({ ok: false, status: 409, error: `reload: ${messageOf(error)}` }));
    this.#queue = done;
    return done;
  }

  async #apply(board: DestinationBoard): Promise<ReloadOutcome> {
    if (this.#closed || board.closing) return STOPPING;
    let diff: DestinationDiff;
    let next: Destination[];
    try {
      next = this.o.read();
      diff = diffDestinations(this.#previous, next, board.publishing);
    } catch (error) {
      const message = `reload: ${messageOf(error)}; nothing was changed`;
      this.o.emit({ type: 'error', code: 'reload-failed', message });
      return { ok: false, status: 400, error: message };
    }
    this.#ownChanged(next, diff);
    const done = { added: [] as string[], removed: [] as string[], replaced: [] as string[] };
    const failed = new Map<string, string>();
    // Unpublished first, all at once (a destination may move to another label, or two swap keys), then added.
    const adding = diff.add.length + diff.replace.length > 0;
    const leaving = [...diff.remove, ...diff.replace.map((d) => d.label)];
    const removals = await Promise.allSettled(leaving.map((l) => board.remove(l, { evenLast: adding })));
    removals.forEach((r, i) => {
      if (r.status === 'rejected') failed.set(leaving[i]!, messageOf(r.reason));
      else if (i < diff.remove.length) done.removed.push(leaving[i]!);
    });
    for (const d of [...diff.replace, ...diff.add]) {
      if (failed.has(d.label)) continue;
      try {
        board.add(d);
        (diff.add.includes(d) ? done.added : done.replaced).push(d.label);
      } catch (error) {
        failed.set(d.label, messageOf(error));
        // unpublished from where it was, and not published where it is now
        if (!diff.add.includes(d)) done.removed.push(d.label);
      }
    }
    this.#settle(next, board, failed);
    this.o.emit({ type: 'reload', ...done });
    if (failed.size === 0) {
      this.o.onApplied?.();
      return { ok: true, ...done };
    }
    const why = [...failed].map(([label, message]) => `${label}: ${message}`).join('; ');
    const what = formatReload({ type: 'reload', ...done });
    const error = `reload stopped part way (${why}); ${what}; reload again to retry`;
    this.o.emit({ type: 'error', code: 'reload-failed', message: error });
    return { ok: false, status: 409, error };
  }

  /**
   * A destination that keeps its URL and key but whose own preset, videoBitrate or encoder changed: the running
   * encodes are not changed under it (they are set when the stream starts); said once per change.
   */
  #ownChanged(next: readonly Destination[], diff: DestinationDiff): void {
    const moving = new Set([...diff.add, ...diff.replace].map((d) => d.label));
    for (const d of next) {
      const own = JSON.stringify(d.own ?? {});
      const before = this.#own.get(d.label);
      this.#own.set(d.label, own);
      if (before === undefined || before === own || moving.has(d.label)) continue;
      const message =
        `reload: ${d.label}'s own preset, videoBitrate or encoder changed: that applies from the next start ` +
        "(a running stream's encodes are set when it starts)";
      this.o.emit({ type: 'warning', message });
    }
  }

  /**
   * What the config gave, as far as it is applied: a label whose change failed keeps what it had if it still runs,
   * and is forgotten if it does not, so the next reload takes it up (even with the config put back as it was).
   */
  #settle(next: readonly Destination[], board: DestinationBoard, failed: ReadonlyMap<string, string>): void {
    const previous = this.#previous;
    const running = board.publishing;
    for (const d of next) {
      if (!failed.has(d.label)) previous.set(d.label, publishKey(d));
      else if (!running.has(d.label)) previous.delete(d.label);
    }
    const named = new Set(next.map((d) => d.label));
    for (const label of [...previous.keys()]) if (!named.has(label) && !running.has(label)) previous.delete(label);
  }
}

const STOPPING: ReloadOutcome = { ok: false, status: 409, error: 'the stream is stopping' };
