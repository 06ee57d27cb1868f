import * as z from 'zod/mini';
import '../util/zod.js';
import { ENCODER_CHOICES, FITS } from '../plan/choices.js';

const even = z.refine<number>((n) => n % 2 === 0, 'must be even (yuv420p)');

export const presetSchema = z
  .strictObject({
    $schema: z.optional(z.string()),
    name: z.string().check(z.regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/)),
    description: z.string(),
    width: z.int().check(z.minimum(16), z.maximum(7680), even),
    height: z.int().check(z.minimum(16), z.maximum(4320), even),
    fps: z.int().check(z.minimum(1), z.maximum(120)),
    videoKbps: z.int().check(z.minimum(100), z.maximum(100_000)),
    /** Below this the preset no longer looks acceptable. */
    minVideoKbps: z.int().check(z.minimum(50)),
    /** How a source of another shape fills the frame (default: pad; the vertical presets crop). */
    fit: z.optional(z.enum(FITS)),
    /** The H.264 encoder (default: --encoder, else auto). */
    encoder: z.optional(z.enum(ENCODER_CHOICES)),
    x264: z.strictObject({
      preset: z.enum(['ultrafast', 'superfast', 'veryfast', 'faster', 'fast', 'medium', 'slow', 'slower', 'veryslow']),
      tune: z.nullable(z.enum(['film', 'animation', 'grain', 'stillimage', 'fastdecode', 'zerolatency'])),
      profile: z.enum(['baseline', 'main', 'high']),
    }),
    audio: z.strictObject({
      kbps: z.int().check(z.minimum(32), z.maximum(512)),
      sampleRate: z.union([z.literal(44100), z.literal(48000)]),
      channels: z.union([z.literal(1), z.literal(2)]),
    }),
  })
  .check(
    z.refine((p) => p.minVideoKbps <= p.videoKbps, {
      message: 'minVideoKbps must not exceed videoKbps',
      path: ['minVideoKbps'],
    }),
  );

export type Preset = z.infer<typeof presetSchema>;
