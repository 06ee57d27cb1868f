import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as z from 'zod/mini';
import '../util/zod.js';
import { packageRoot } from '../util/paths.js';

const ingestSchema = z.object({
  url: z.string(),
  protocol: z.enum(['rtmp', 'rtmps']),
  role: z.string(),
});

const positive = () => z.number().check(z.positive());

const platformSchema = z.object({
  id: z.string().check(z.regex(/^[a-z][a-z0-9]*$/)),
  name: z.string(),
  ingest: z.array(ingestSchema),
  keyPlacement: z.string(),
  maxVideoKbps: z.optional(z.nullable(positive())),
  maxAudioKbps: z.optional(z.nullable(positive())),
  keyframeSeconds: z.optional(positive()),
  maxKeyframeSeconds: z.optional(positive()),
  maxWidth: z.optional(z.int().check(z.positive())),
  maxHeight: z.optional(z.int().check(z.positive())),
  maxFps: z.optional(positive()),
  audioSampleRates: z.optional(z.array(z.int())),
  videoCodecs: z.optional(z.array(z.string())),
  bandwidthTest: z.optional(z.nullable(z.string())),
  /** What the key takes to publish a stream that does not go on air (a bandwidth test), where the platform has one. */
  testKeySuffix: z.optional(z.string()),
  sources: z.array(z.string()).check(z.minLength(1)),
});

const tableSchema = z.object({ platforms: z.array(platformSchema) });

export type Platform = z.infer<typeof platformSchema>;

/** Platforms `--to` accepts by id: the ones with a fixed public ingest. */
export const PLATFORM_IDS = [
  'youtube',
  'twitch',
  'facebook',
  'kick',
  'x',
  'restream',
  'trovo',
  'tiktok',
  'instagram',
] as const;

let cached: Platform[] | undefined;

/** The platform table shipped in data/platforms.json, validated once. */
export function loadPlatforms(): Platform[] {
  if (!cached) {
    const file = path.join(packageRoot(), 'data', 'platforms.json');
    cached = tableSchema.parse(JSON.parse(readFileSync(file, 'utf8'))).platforms;
  }
  return cached;
}

export function findPlatform(id: string): Platform | undefined {
  return loadPlatforms().find((p) => p.id === id);
}

/** The ingest rtmpush uses by default: the first RTMPS one where the platform offers it. */
export function defaultIngest(platform: Platform): string | undefined {
  const secure = platform.ingest.find((i) => i.protocol === 'rtmps');
  return (secure ?? platform.ingest[0])?.url;
}

/** Which platform an ingest host belongs to, for hints on a wrong URL. */
export function platformForHost(host: string): Platform | undefined {
  return loadPlatforms().find((p) =>
    p.ingest.some((i) => {
      try {
        return new URL(i.url).hostname === host;
      } catch {
        return false;
      }
    }),
  );
}

/** The app path a platform's ingest expects, e.g. "live2" for YouTube. */
export function expectedApp(platform: Platform): string | undefined {
  const url = defaultIngest(platform);
  if (!url) return undefined;
  return new URL(url).pathname.replace(/^\/+|\/+$/g, '') || undefined;
}

/** The platform's RTMPS ingest, if it has one (offered when port 1935 is blocked). */
export function rtmpsIngest(platform: Platform): string | undefined {
  return platform.ingest.find((i) => i.protocol === 'rtmps')?.url;
}

/** Platforms whose ingest takes a stream that does not go on air (for `rtmpush uplink`). */
export function hasTestMode(platform: Platform | undefined): platform is Platform & { testKeySuffix: string } {
  return Boolean(platform?.testKeySuffix);
}

/** What the words for a failed session need from a destination's platform (see advice/cause.ts). */
export function platformHints(platform: Platform | undefined): { expectedApp?: string; rtmpsUrl?: string } {
  if (!platform) return {};
  return { expectedApp: expectedApp(platform), rtmpsUrl: rtmpsIngest(platform) ?? defaultIngest(platform) };
}
