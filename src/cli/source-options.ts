import { accessSync, constants, existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { isLoopback, parseHostPort } from '../control/address.js';
import { UsageError } from '../errors.js';
import type { IngestAddress } from '../plan/plan.js';
import type { SlateChoice } from '../plan/plan.js';
import type { Source } from '../plan/source.js';
import { Secret } from '../secret.js';
import { DAY, parseDuration } from '../util/duration.js';
import type { RawStreamFlags } from './options.js';

/** Still images ffmpeg's image reader holds with -loop 1 (an animated GIF is a video: looped as one). */
const IMAGE = /\.(png|jpe?g|bmp|webp|tiff?|pgm|ppm|pnm)$/i;

/** --slate and --slate-timeout: what plays while the source is lost, and how long at most. */
export function resolveSlate(flags: RawStreamFlags, cwd: string): SlateChoice {
  const timeoutMs =
    flags.slateTimeout === undefined
      ? 10 * 60_000
      : flags.slateTimeout.trim() === '0'
        ? 0
        : parseDuration(flags.slateTimeout, '--slate-timeout', {
            min: 1000,
            max: 366 * DAY,
            text: '0, or from 1s to 366d',
          });
  if (flags.slate === undefined) return { image: true, timeoutMs };
  const file = path.resolve(cwd, flags.slate);
  if (!existsSync(file) || !statSync(file).isFile())
    throw new UsageError(`--slate ${flags.slate}: no such file (give an image or a video)`);
  try {
    accessSync(file, constants.R_OK);
  } catch {
    throw new UsageError(`--slate ${flags.slate}: cannot be read (check its permissions)`);
  }
  return { path: file, image: IMAGE.test(file), timeoutMs };
}

/** --source listen and --listen: where encoders publish; a key is required where others can reach it. */
export function resolveIngest(
  flags: RawStreamFlags,
  source: Source,
  env: Record<string, string | undefined>,
): IngestAddress | undefined {
  if (source.kind !== 'listen') {
    if (flags.listen !== undefined) throw new UsageError('--listen needs --source listen');
    if (flags.copy) throw new UsageError('--copy needs --source listen: other sources are always encoded');
    return undefined;
  }
  const encodeFlag = (['videoBitrate', 'audioBitrate', 'keyint', 'audioRate'] as const).find((f) => flags[f]);
  if (flags.copy && encodeFlag)
    throw new UsageError(
      `--copy sends the encoder's stream as it is: --${encodeFlag.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} ` +
        'cannot apply; set it in the encoder, or drop --copy',
    );
  const at = parseHostPort(flags.listen ?? DEFAULT_LISTEN, '--listen', 1935);
  const raw = env.RTMPUSH_INGEST_KEY;
  if (!raw && !isLoopback(at.host))
    throw new UsageError(
      `--listen ${flags.listen}: set RTMPUSH_INGEST_KEY first: anyone who reaches that address could ` +
        'publish to your destinations (or listen on 127.0.0.1)',
    );
  // reachable from other machines, a short key is guessed: 16 characters there, 4 on this machine
  const least = isLoopback(at.host) ? 4 : 16;
  if (raw !== undefined && raw !== '' && raw.length < least)
    throw new UsageError(
      `RTMPUSH_INGEST_KEY is too short: give at least ${least} characters` +
        (least === 4 ? ' (better 16 or more)' : ` to listen on ${at.host}`),
    );
  return { ...at, ...(raw ? { key: new Secret(raw) } : {}) };
}

const DEFAULT_LISTEN = '127.0.0.1:1935';
