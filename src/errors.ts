/** Bad usage, config or input: nothing was started. The CLI exits 2 with `message` alone. */
export class UsageError extends Error {
  override name = 'UsageError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The stream could not run (encoder failed to start, ffmpeg missing at run time). Exit 1. */
export class RunError extends Error {
  override name = 'RunError';
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
