import * as z from 'zod/mini';
import '../util/zod.js';
import { ENCODER_CHOICES } from '../plan/choices.js';

export { describeIssues } from '../util/zod.js';

export const configDestinationSchema = z
  .strictObject({
    platform: z.optional(z.string()),
    url: z.optional(z.string()),
    keyEnv: z.optional(z.string().check(z.regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name'))),
    key: z.optional(z.string().check(z.minLength(1))),
    /** This destination's own encode: a preset, a video bitrate, an encoder (else the stream's). */
    preset: z.optional(z.string().check(z.minLength(1))),
    videoBitrate: z.optional(z.union([z.int().check(z.minimum(100), z.maximum(100_000)), z.string()])),
    encoder: z.optional(z.enum(ENCODER_CHOICES)),
  })
  .check(
    z.refine((d) => Boolean(d.platform) !== Boolean(d.url), { message: 'give exactly one of "platform" or "url"' }),
  );

export const configSchema = z.strictObject({
  $schema: z.optional(z.string()),
  destinations: z.optional(
    z.record(
      z.string().check(z.regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$/, 'bad destination name')),
      configDestinationSchema,
    ),
  ),
  defaults: z.optional(
    z.strictObject({
      preset: z.optional(z.string()),
      source: z.optional(z.string()),
      to: z.optional(z.array(z.string())),
    }),
  ),
  uplink: z.optional(
    z.strictObject({
      /** A test ingest for `rtmpush uplink` (a URL with its key, or a destination name with a test mode). */
      target: z.string().check(z.minLength(1)),
    }),
  ),
});

export type RtmpushConfig = z.infer<typeof configSchema>;
export type ConfigDestination = z.infer<typeof configDestinationSchema>;
