import { z } from 'zod';

export const configDestinationSchema = z
  .object({
    platform: z.string().optional(),
    url: z.string().optional(),
    keyEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name').optional(),
    key: z.string().min(1).optional(),
  })
  .strict()
  .refine((d) => Boolean(d.platform) !== Boolean(d.url), { message: 'give exactly one of "platform" or "url"' });

export const configSchema = z
  .object({
    $schema: z.string().optional(),
    destinations: z.record(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$/, 'bad destination name'), configDestinationSchema).optional(),
    defaults: z
      .object({
        preset: z.string().optional(),
        source: z.string().optional(),
        to: z.array(z.string()).optional(),
      })
      .strict()
      .optional(),
    uplink: z
      .object({
        /** A test ingest for `rtmpush uplink` (a URL with its key, or a destination name with a test mode). */
        target: z.string().min(1),
      })
      .strict()
      .optional(),
  })
  .strict();

export type RtmpushConfig = z.infer<typeof configSchema>;
export type ConfigDestination = z.infer<typeof configDestinationSchema>;

/** Every problem in one line each, with where it is: `destinations.yt.keyEnv: ...`. */
export function describeIssues(error: z.ZodError): string[] {
  return error.issues.map((issue) => {
    const where = issue.path.length > 0 ? issue.path.join('.') : '(top level)';
    return `${where}: ${issue.message}`;
  });
}
