export interface RetryPolicy {
  /** First delay after a network loss. */
  initialMs: number;
  factor: number;
  maxMs: number;
  /** ± this fraction, so destinations that drop together do not retry in lock-step. */
  jitter: number;
  /** Give up (failed) after this many tries in a row; undefined = never. */
  maxRetries?: number;
  /** A refusal by the server waits longer, and ends as rejected after this many in a row. */
  rejectInitialMs: number;
  rejectLimit: number;
}

export const DEFAULT_RETRY: RetryPolicy = {
  initialMs: 1000,
  factor: 1.5,
  maxMs: 30_000,
  jitter: 0.2,
  rejectInitialMs: 5000,
  rejectLimit: 3,
};

/** Delay before try number `attempt` (1-based), never above `maxMs`. Pure: `random` is a value in [0, 1). */
export function retryDelay(policy: RetryPolicy, attempt: number, rejected: boolean, random: number): number {
  const base = rejected ? policy.rejectInitialMs : policy.initialMs;
  const jittered = base * policy.factor ** Math.max(0, attempt - 1) * (1 + policy.jitter * (2 * random - 1));
  // At the cap the jitter only shortens the wait: the cap is a true maximum, and capped destinations still spread.
  return Math.round(jittered <= policy.maxMs ? jittered : policy.maxMs * (1 - policy.jitter * random));
}

/** Tries in a row: network losses (reset when live) and refusals (reset by any network loss or by going live). */
export interface RetryCounters {
  attempt: number;
  rejections: number;
}

/** How a session ended, for the retry policy: a refusal by the server, a network loss, or one never worth retrying. */
export type Loss = 'refused' | 'network' | 'final';

export type RetryDecision =
  | { kind: 'give-up'; as: 'rejected' | 'failed' }
  | { kind: 'retry'; refused: boolean; attempt: number; delayMs: number };

/**
 * What to do after a session ended, pure: retry after a delay (longer after a refusal), or give up — at once for a
 * final loss, after `rejectLimit` refusals in a row, or past `maxRetries` network losses. Updates `counters`.
 */
export function afterLoss(policy: RetryPolicy, counters: RetryCounters, loss: Loss, random: number): RetryDecision {
  if (loss === 'final') return { kind: 'give-up', as: 'rejected' };
  if (loss === 'refused') {
    counters.rejections++;
    if (counters.rejections >= policy.rejectLimit) return { kind: 'give-up', as: 'rejected' };
    const attempt = counters.rejections;
    return { kind: 'retry', refused: true, attempt, delayMs: retryDelay(policy, attempt, true, random) };
  }
  counters.rejections = 0;
  counters.attempt++;
  if (policy.maxRetries !== undefined && counters.attempt > policy.maxRetries) return { kind: 'give-up', as: 'failed' };
  return {
    kind: 'retry',
    refused: false,
    attempt: counters.attempt,
    delayMs: retryDelay(policy, counters.attempt, false, random),
  };
}
