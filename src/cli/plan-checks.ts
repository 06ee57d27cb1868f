import { UsageError } from '../errors.js';
import type { Destination } from '../platforms/destinations.js';
import type { Plan } from '../plan/plan.js';
import { findPreset, type PresetEntry } from '../presets/load.js';
import type { Preset } from '../presets/schema.js';
import { MIN_VIDEO_KBPS } from '../util/duration.js';
import { usesUplink } from '../plan/encodes.js';

/** A flag that takes one of a few words: the word, or exit 2 naming them. */
export function choice<T extends string>(raw: string | undefined, flag: string, allowed: readonly T[]): T | undefined {
  if (raw === undefined) return undefined;
  const value = raw.trim().toLowerCase();
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new UsageError(`${flag} ${raw}: use one of ${allowed.join(', ')}`);
}

/**
 * Every preset, by name, for destinations to name (one added while streaming too); one the destinations name that
 * does not exist is exit 2, naming the presets.
 */
export function ownPresets(destinations: Destination[], entries: PresetEntry[]): Map<string, Preset> {
  for (const d of destinations) if (d.own?.preset) findPreset(entries, d.own.preset, `${d.label}'s preset`);
  return new Map(entries.map((e) => [e.preset.name, e.preset]));
}

/**
 * After the uplink's share: an encode left below what rtmpush can encode is exit 2; one below what its preset
 * needs gets advice naming a preset that fits (exit 2 with --strict). The advice, to go first in the plan's notes.
 */
export function checkBitrates(
  plan: Plan,
  uplink: { kbps: number; from: string } | undefined,
  entries: PresetEntry[],
  strict: boolean,
  loopbackCounts = false,
): string[] {
  const notes: string[] = [];
  const leaving = plan.destinations.filter((d) => usesUplink(d, loopbackCounts)).length;
  for (const e of plan.encodes) {
    if (uplink && e.video.kbps < MIN_VIDEO_KBPS) {
      const fix = uplink.from.startsWith('given') ? 'give your real upload rate' : 'measure again (--remeasure)';
      const whose = plan.encodes.length > 1 ? ` for ${e.destinations.join(', ')}` : '';
      throw new UsageError(
        `--uplink: ${uplink.kbps} kbps (${uplink.from}) leaves ${e.video.kbps} kbps of video${whose} ` +
          `for each of ${leaving} destinations, ` +
          `below the ${MIN_VIDEO_KBPS} kbps rtmpush needs: ${fix}, stream to fewer destinations, or pass --uplink off`,
      );
    }
  }
  for (const e of plan.encodes) {
    if (!e.belowPresetMinimum) continue;
    const fits = entries
      .map((p) => p.preset)
      .filter((p) => p.minVideoKbps <= e.video.kbps && p.width >= p.height === e.video.width >= e.video.height)
      .sort((a, b) => b.width * b.height * b.fps - a.width * a.height * a.fps)[0];
    const whose = plan.encodes.length > 1 ? ` (${e.destinations.join(', ')})` : '';
    const advice =
      `${e.video.kbps} kbps is below what ${e.preset}${whose} needs (${e.minVideoKbps} kbps): ` +
      `${fits ? `use --preset ${fits.name}` : 'no preset fits'}, or stream to fewer destinations`;
    if (strict) throw new UsageError(`--strict: ${advice}`);
    notes.unshift(advice);
  }
  return notes;
}
