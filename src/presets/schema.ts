import { z } from 'zod';

export const presetSchema = z
  .object({
    $schema: z.string().optional(),
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/),
    description: z.string(),
    width: z.number().int().min(16).max(7680).refine((n) => n % 2 === 0, 'must be even (yuv420p)'),
    height: z.number().int().min(16).max(4320).refine((n) => n % 2 === 0, 'must be even (yuv420p)'),
    fps: z.number().int().min(1).max(120),
    videoKbps: z.number().int().min(100).max(100_000),
    /** Below this the preset no longer looks acceptable. */
    minVideoKbps: z.number().int().min(50),
    x264: z
      .object({
        preset: z.enum(['ultrafast', 'superfast', 'veryfast', 'faster', 'fast', 'medium', 'slow', 'slower', 'veryslow']),
        tune: z.enum(['film', 'animation', 'grain', 'stillimage', 'fastdecode', 'zerolatency']).nullable(),
        profile: z.enum(['baseline', 'main', 'high']),
      })
      .strict(),
    audio: z
      .object({
        kbps: z.number().int().min(32).max(512),
        sampleRate: z.union([z.literal(44100), z.literal(48000)]),
        channels: z.union([z.literal(1), z.literal(2)]),
      })
      .strict(),
  })
  .strict()
  .refine((p) => p.minVideoKbps <= p.videoKbps, { message: 'minVideoKbps must not exceed videoKbps', path: ['minVideoKbps'] });

export type Preset = z.infer<typeof presetSchema>;
