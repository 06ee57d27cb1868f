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

/**
 * An operator's request to a running stream that cannot be done as asked (the control API answers its status with
 * the message): 400 malformed, 404 no such destination, 409 not now or not for this stream.
 */
export class RequestRefused extends Error {
  override name = 'RequestRefused';
  constructor(
    readonly status: 400 | 404 | 409,
    message: string,
  ) {
    super(message);
  }
}
