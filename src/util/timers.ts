/** Node's timers hold at most 2^31 − 1 ms (24.8 days); a longer delay fires at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface LongTimer {
  clear(): void;
}

/** setTimeout for any delay: a long one is waited out in steps Node can hold. */
export function setLongTimeout(fn: () => void, ms: number): LongTimer {
  const due = Date.now() + ms;
  let timer: NodeJS.Timeout;
  const arm = (): void => {
    const left = due - Date.now();
    timer = left > MAX_TIMER_MS ? setTimeout(arm, MAX_TIMER_MS) : setTimeout(fn, Math.max(0, left));
  };
  arm();
  return { clear: () => clearTimeout(timer) };
}
