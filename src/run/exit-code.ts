import type { DestinationStateName } from '../state/destination.js';

/**
 * How a command ended, as the exit code needs it. rtmpush's own side (its encoder, its source, the embedded server)
 * is told apart from the destinations' side (a server that refused, failed or could not be reached).
 */
export type Outcome =
  | {
      command: 'start';
      /** The encoder (or its source) failed, not stopped by rtmpush. */
      encoderFailed: boolean;
      /** The source was lost for longer than the slate may play (`--slate-timeout`). */
      sourceLost?: boolean;
      /** `--to local` / `--rehearse`: the embedded server recorded nothing readable. */
      nothingReceived: boolean;
      /** `--rehearse`: what arrived breaks a platform's rule. */
      breaksRules: boolean;
      recordFailed: boolean;
      /** No destination was ever live (an ingest nobody published to, too). */
      neverLive?: boolean;
      /** Each destination's final state. */
      destinations: DestinationStateName[];
    }
  | { command: 'doctor'; reachable: number; total: number }
  | { command: 'uplink'; measured: boolean };

/**
 * The one place exit codes are decided (bad input, 2, is a UsageError thrown before anything starts):
 * 0 all as asked; 1 rtmpush's own side failed; 3 it ran, but something on the destinations' side (or the
 * recording, or a platform's rule) did not go as asked — including no destination ever live.
 */
export function exitCodeFor(outcome: Outcome): 0 | 1 | 3 {
  switch (outcome.command) {
    case 'start': {
      if (outcome.encoderFailed || outcome.sourceLost || outcome.nothingReceived) return 1;
      // A destination an operator paused and left paused is as asked.
      const allLive = outcome.destinations.every((s) => s === 'stopped' || s === 'paused');
      return allLive && !outcome.recordFailed && !outcome.breaksRules && !outcome.neverLive ? 0 : 3;
    }
    case 'doctor':
      return outcome.reachable === outcome.total ? 0 : 3;
    case 'uplink':
      return outcome.measured ? 0 : 3;
  }
}
