import { UsageError } from '../errors.js';
import type { Destination } from '../platforms/destinations.js';
import type { DestinationBoard } from './board.js';
import type { Emit } from './events.js';
import { publishKey } from './operator.js';

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
 * The difference between the destinations a config gave last time (`applied`) and the ones it gives now, against
 * what the board runs (label → where it publishes). Destinations added through the control API were never named by
 * a config: a reload keeps them. Throws UsageError when the new set cannot be applied while streaming; then nothing
 * is changed.
 */
export function diffDestinations(
  applied: ReadonlySet<string>,
  next: readonly Destination[],
  board: ReadonlyMap<string, string>,
): DestinationDiff {
  const named = new Set(next.map((d) => d.label));
  const diff: DestinationDiff = {
    add: [],
    replace: [],
    remove: [...applied].filter((l) => board.has(l) && !named.has(l)),
  };
  for (const d of next) {
    const running = board.get(d.label);
    if (d.kind === 'local') {
      // the embedded server's port is chosen at start: `local` is kept as it is, and never added later
      if (running === undefined) throw new UsageError('local cannot be added to a running stream');
    } else if (running === undefined) diff.add.push(d);
    else if (running !== publishKey(d)) diff.replace.push(d);
  }
  const leaving = new Set([...diff.remove, ...diff.replace.map((d) => d.label)]);
  for (const d of [...diff.add, ...diff.replace]) {
    const other = [...board].find(([l, key]) => !leaving.has(l) && key === publishKey(d));
    if (other) throw new UsageError(`${d.label}: ${other[0]} already publishes there with that key`);
  }
  return diff;
}

export interface ReloaderOptions {
  /** The labels the config gave at start. */
  initial: readonly string[];
  /** Reads the config again: the destinations it gives now. Throws UsageError for a config that does not validate. */
  read: () => Destination[];
  emit: Emit;
  /** The destinations read last were applied (in full). */
  onApplied?: () => void;
}

/**
 * SIGHUP: the config is read again and the difference in destinations applied to the running stream, one reload
 * at a time. A config that does not validate changes nothing and is reported as an `error` event.
 */
export class Reloader {
  #applied: Set<string>;
  #board: DestinationBoard | undefined;
  #pending = false;
  #closed = false;
  #queue: Promise<void> = Promise.resolve();

  constructor(private readonly o: ReloaderOptions) {
    this.#applied = new Set(o.initial);
  }

  /** The stream's destinations exist: a reload asked for while starting runs now. */
  attach(board: DestinationBoard): void {
    this.#board = board;
    if (this.#pending) void this.reload();
  }

  /** The stream is stopping: SIGHUP changes nothing from now on. */
  close(): void {
    this.#closed = true;
  }

  /** Settles once this reload (and any before it) is done; never rejects. */
  reload(): Promise<void> {
    if (this.#closed) return this.#queue;
    if (!this.#board) {
      this.#pending = true;
      return this.#queue;
    }
    this.#pending = false;
    this.#queue = this.#queue.then(() => this.#apply(this.#board!));
    return this.#queue;
  }

  async #apply(board: DestinationBoard): Promise<void> {
    let diff: DestinationDiff;
    let next: Destination[];
    try {
      next = this.o.read();
      diff = diffDestinations(this.#applied, next, board.publishing);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.o.emit({ type: 'error', code: 'reload-failed', message: `reload: ${message}; nothing was changed` });
      return;
    }
    const done = { added: [] as string[], removed: [] as string[], replaced: [] as string[] };
    try {
      // Unpublished first (a destination may move to another label, or the whole set change), then added.
      const adding = diff.add.length + diff.replace.length > 0;
      for (const label of diff.remove) {
        await board.remove(label, { evenLast: adding });
        done.removed.push(label);
      }
      for (const d of diff.replace) await board.remove(d.label, { evenLast: true });
      for (const d of diff.replace) {
        board.add(d);
        done.replaced.push(d.label);
      }
      for (const d of diff.add) {
        board.add(d);
        done.added.push(d.label);
      }
      this.#applied = new Set(next.map((d) => d.label));
      this.o.onApplied?.();
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.o.emit({ type: 'error', code: 'reload-failed', message: `reload stopped part way: ${message}` });
    }
    this.o.emit({ type: 'reload', ...done });
  }
}
