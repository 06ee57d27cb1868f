export type DestinationStateName = 'connecting' | 'live' | 'reconnecting' | 'rejected' | 'failed' | 'stopped';

export interface DestinationState {
  name: DestinationStateName;
  reason?: string;
  /** When the current state began (ms, the runner's clock). */
  since: number;
  /** Since when nothing went wrong on this leg: it counts as live once this is long enough. */
  quietSince: number;
  everLive: boolean;
  liveMs: number;
  reconnects: number;
  attempt: number;
}

export type DestinationEvent =
  | { type: 'start'; at: number }
  | { type: 'encoder-progress'; at: number }
  | { type: 'leg-error'; at: number; reason: string }
  | { type: 'leg-recovered'; at: number }
  | { type: 'stop'; at: number };

/**
 * How long a leg must stream with no error before it counts as live. ffmpeg retries a failing leg
 * every second and reports each failure, so 2.5 s of silence while the encoder advances means the leg is up.
 */
export const QUIET_MS = 2500;

export function initialState(at: number): DestinationState {
  return { name: 'connecting', since: at, quietSince: at, everLive: false, liveMs: 0, reconnects: 0, attempt: 0 };
}

const move = (s: DestinationState, name: DestinationStateName, at: number, patch: Partial<DestinationState> = {}): DestinationState => {
  const liveMs = s.name === 'live' ? s.liveMs + (at - s.since) : s.liveMs;
  return { ...s, ...patch, name, since: at, liveMs };
};

const FINAL: DestinationStateName[] = ['rejected', 'failed', 'stopped'];

/** The next state of one destination. Pure. */
export function nextState(s: DestinationState, e: DestinationEvent): DestinationState {
  if (FINAL.includes(s.name)) return s;
  switch (e.type) {
    case 'start':
      return initialState(e.at);
    case 'encoder-progress':
      if (s.name !== 'live' && e.at - s.quietSince >= QUIET_MS) {
        return move(s, 'live', e.at, { everLive: true, reason: undefined, attempt: 0 });
      }
      return s;
    case 'leg-error':
      if (s.name === 'reconnecting') return { ...s, quietSince: e.at, attempt: s.attempt + 1, reason: e.reason };
      return move(s, 'reconnecting', e.at, {
        quietSince: e.at,
        reason: e.reason,
        attempt: 1,
        reconnects: s.name === 'live' ? s.reconnects + 1 : s.reconnects,
      });
    case 'leg-recovered':
      return s.name === 'reconnecting' ? move(s, 'connecting', e.at, { quietSince: e.at, reason: 'reconnected, confirming' }) : s;
    case 'stop':
      if (s.name === 'live') return move(s, 'stopped', e.at, { reason: undefined });
      return move(s, 'failed', e.at, { reason: s.reason ?? 'never confirmed live' });
  }
}

/** Total time live, counting the current stretch. */
export function liveMsAt(s: DestinationState, at: number): number {
  return s.name === 'live' ? s.liveMs + (at - s.since) : s.liveMs;
}
