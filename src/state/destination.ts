export type DestinationStateName =
  | 'connecting'
  | 'live'
  | 'reconnecting'
  | 'rejected'
  | 'failed'
  | 'stopped'
  /** An operator paused it (the control API): unpublished, no retries, until resumed. */
  | 'paused';

export interface DestinationState {
  name: DestinationStateName;
  reason?: string;
  /** When the current state began (ms since epoch). */
  since: number;
  everLive: boolean;
  liveMs: number;
  reconnects: number;
  attempt: number;
  delayMs?: number;
  nextRetryAt?: number;
  /** No more tries: the state can no longer change. */
  terminal: boolean;
}

/** What a destination's relay reports, in the server's own terms. */
export type DestinationEvent =
  | { type: 'live'; at: number }
  | { type: 'retry'; at: number; attempt: number; delayMs: number; nextRetryAt: number; reason: string }
  | {
      type: 'rejected';
      at: number;
      reason: string;
      final: boolean;
      attempt?: number;
      delayMs?: number;
      nextRetryAt?: number;
    }
  | { type: 'failed'; at: number; reason: string }
  | { type: 'pause'; at: number }
  | { type: 'resume'; at: number }
  | { type: 'stop'; at: number };

export function initialState(at: number): DestinationState {
  return { name: 'connecting', since: at, everLive: false, liveMs: 0, reconnects: 0, attempt: 0, terminal: false };
}

const move = (
  s: DestinationState,
  name: DestinationStateName,
  at: number,
  patch: Partial<DestinationState> = {},
): DestinationState => ({
  ...s,
  delayMs: undefined,
  nextRetryAt: undefined,
  reason: undefined,
  ...patch,
  name,
  since: at,
  liveMs: liveMsAt(s, at),
});

/** The next state of one destination. Pure. */
export function nextState(s: DestinationState, e: DestinationEvent): DestinationState {
  if (s.terminal) return s;
  switch (e.type) {
    case 'live':
      return s.name === 'live' ? s : move(s, 'live', e.at, { everLive: true, attempt: 0 });
    case 'retry':
      return move(s, 'reconnecting', e.at, {
        attempt: e.attempt,
        delayMs: e.delayMs,
        nextRetryAt: e.nextRetryAt,
        reason: e.reason,
        reconnects: s.name === 'live' ? s.reconnects + 1 : s.reconnects,
      });
    case 'rejected':
      // Until the last refusal the relay still retries (later): the state says so with the next try.
      return move(s, 'rejected', e.at, {
        reason: e.reason,
        terminal: e.final,
        attempt: e.attempt ?? s.attempt,
        delayMs: e.delayMs,
        nextRetryAt: e.nextRetryAt,
      });
    case 'failed':
      return move(s, 'failed', e.at, { reason: e.reason, terminal: true });
    case 'pause':
      return move(s, 'paused', e.at);
    case 'resume':
      return s.name === 'paused' ? move(s, 'connecting', e.at, { attempt: 0 }) : s;
    case 'stop':
      if (s.name === 'live') return move(s, 'stopped', e.at, { terminal: true });
      if (s.name === 'paused') return { ...s, terminal: true };
      if (s.name === 'rejected') return { ...s, terminal: true, delayMs: undefined, nextRetryAt: undefined };
      return move(s, 'failed', e.at, { reason: s.reason ?? 'never went live', terminal: true });
  }
}

/** Whether a transition is worth a `state` event: a new state, or a new retry (attempt, delay, reason). */
export function isReportable(before: DestinationState, after: DestinationState): boolean {
  if (before === after) return false;
  if (before.name !== after.name) return true;
  if (after.nextRetryAt !== undefined && after.nextRetryAt !== before.nextRetryAt) return true;
  // The last refusal: the same state as the one before it, but no more tries.
  return after.terminal && !before.terminal && after.since !== before.since;
}

/** Total time live, counting the current stretch. */
export function liveMsAt(s: DestinationState, at: number): number {
  return s.name === 'live' ? s.liveMs + (at - s.since) : s.liveMs;
}
