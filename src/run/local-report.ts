import type { Plan } from '../plan/plan.js';
import type { Platform } from '../platforms/table.js';
import { checkReceived } from '../probe/summary.js';
import { platformChecks, type RehearsalFlags } from '../rehearse/rules.js';
import type { Emit } from './events.js';
import { probeReceived } from '../probe/ffprobe.js';
import type { LocalServer } from './local-server.js';

export type LocalOutcome = 'ok' | 'nothing' | 'breaks-rules';

/** `--rehearse`: each `local` destination (one per encode) is checked against these platforms' rules. */
export interface Rehearsal {
  platforms: Record<string, Platform[]>;
  flags: RehearsalFlags;
}

/**
 * Reads back what the embedded server recorded for each `local` destination, reports it against the preset and,
 * in a rehearsal, against each platform's rules.
 */
export async function reportLocal(
  local: LocalServer,
  plan: Plan,
  opts: { ffprobe: string; emit: Emit; rehearse?: Rehearsal; swaps?: number },
): Promise<LocalOutcome> {
  let outcome: LocalOutcome = 'ok';
  const nothing = (label: string, what: string): void => {
    opts.emit({ type: 'error', code: 'nothing-received', message: `${label}: ${what}` });
    outcome = 'nothing';
  };
  for (const dest of plan.destinations.filter((d) => d.kind === 'local')) {
    const files = local.recordings(`/${dest.endpoint.app}/${dest.key.reveal()}`);
    if (files.length === 0) {
      nothing(dest.label, 'the embedded server recorded nothing');
      continue;
    }
    const file = files[files.length - 1]!;
    let summary: Awaited<ReturnType<typeof probeReceived>>;
    try {
      summary = await probeReceived(opts.ffprobe, file);
    } catch {
      nothing(dest.label, 'what the embedded server recorded cannot be read');
      continue;
    }
    // what its own encode was to send
    const { video, audio } = plan.encodes.find((e) => e.destinations.includes(dest.label)) ?? plan;
    const checks = checkReceived(summary, {
      width: video.width,
      height: video.height,
      fps: video.fps,
      kbps: video.kbps,
      keyintSeconds: video.keyintSeconds,
      sampleRate: audio.sampleRate,
      channels: audio.channels,
    });
    const first = local.recordedFirst(file);
    opts.emit({
      type: 'received',
      destination: dest.label,
      summary,
      checks,
      meetsPreset: checks.every((c) => c.ok),
      ...(first === undefined ? {} : { recordedFirstS: first }),
    });
    for (const platform of opts.rehearse?.platforms[dest.label] ?? []) {
      const rules = platformChecks(summary, platform, { ...opts.rehearse!.flags, swaps: opts.swaps ?? 0 });
      const ok = rules.every((c) => c.ok);
      if (!ok && outcome === 'ok') outcome = 'breaks-rules';
      const many = plan.encodes.length > 1 ? { destination: dest.label } : {};
      opts.emit({ type: 'rehearsal', platform: platform.id, name: platform.name, ok, checks: rules, ...many });
    }
  }
  return outcome;
}
