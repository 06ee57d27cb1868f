import { createHash } from 'node:crypto';
import { type Destination, endpointUrl } from '../platforms/destinations.js';
import type { RunEvent } from './events.js';

/** Why an operator's request about one destination cannot be done: the API answers 400, 404 or 409 with it. */
export class BoardRefusal extends Error {
  constructor(
    readonly status: 400 | 404 | 409,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Where a destination publishes, key included: two destinations must not publish to the same one. A digest, so the
 * maps that compare them (the board's, a reload's) hold no key in clear.
 */
export const publishKey = (d: Destination): string =>
  createHash('sha256')
    .update(`${endpointUrl(d.endpoint)}/${d.key.reveal()}`)
    .digest('base64url');

/** A destination that does not take the stream as fast as it is made. */
export function congestedWarning(
  label: string,
  deliveredKbps: number | null | undefined,
  streamKbps: number,
): RunEvent {
  const figure = deliveredKbps ? ` (${deliveredKbps} kbps delivered of ${streamKbps} kbps)` : '';
  return {
    type: 'warning',
    message:
      `${label}: congested: ` +
      `the destination is not taking the stream as fast as it is made${figure}; dropping to the next keyframe`,
  };
}
