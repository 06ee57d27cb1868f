import { type Destination, endpointUrl } from '../platforms/destinations.js';

/** Why an operator's request about one destination cannot be done: the API answers 404 or 409 with it. */
export class BoardRefusal extends Error {
  constructor(
    readonly status: 404 | 409,
    message: string,
  ) {
    super(message);
  }
}

/** Where a destination publishes, key included: two destinations must not publish to the same one. */
export const publishKey = (d: Destination): string => `${endpointUrl(d.endpoint)}/${d.key.reveal()}`;
