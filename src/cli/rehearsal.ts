import { randomBytes } from 'node:crypto';
import type { Plan } from '../plan/plan.js';
import { type Destination, resolveDestinations } from '../platforms/destinations.js';
import { findPlatform, PLATFORM_IDS, type Platform } from '../platforms/table.js';
import type { Rehearsal } from '../run/local-report.js';
import { Secret } from '../secret.js';
import type { RawStreamFlags } from './stream-flags.js';

/**
 * `--rehearse`: the same encodes go to the embedded server only, one `local` destination per encode, each checked
 * afterwards against its own destinations' platforms (every built-in platform when an encode has none).
 */
export function rehearsalPlan(
  plan: Plan,
  flags: RawStreamFlags,
  env: Record<string, string | undefined>,
): { plan: Plan; rehearse: Rehearsal } {
  const [local] = resolveDestinations(['local'], { env, config: {} });
  const everyPlatform = PLATFORM_IDS.map((id) => findPlatform(id)!);
  const platforms: Record<string, Platform[]> = {};
  const locals: Destination[] = [];
  const encodes = plan.encodes.map((e) => {
    const label = plan.encodes.length === 1 ? 'local' : `local-${e.id}`;
    const chosen = plan.destinations.filter((d) => e.destinations.includes(d.label) && d.platform);
    platforms[label] = chosen.length ? [...new Set(chosen.map((d) => d.platform!))] : everyPlatform;
    locals.push({ ...local!, label, key: new Secret(`rtmpush-${randomBytes(6).toString('hex')}`) });
    return { ...e, destinations: [label] };
  });
  return {
    plan: { ...plan, encodes, destinations: locals, durationMs: plan.durationMs ?? 15_000 },
    rehearse: {
      platforms,
      flags: {
        keyintSeconds:
          plan.video.keyintSeconds === 2 && flags.keyint === undefined ? undefined : plan.video.keyintSeconds,
        videoKbps: plan.video.kbps,
        allowOverCap: flags.allowOverCap,
        sampleRate: flags.audioRate ? plan.audio.sampleRate : undefined,
      },
    },
  };
}
