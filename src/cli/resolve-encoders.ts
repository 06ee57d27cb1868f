import type { EncoderName } from '../ffmpeg/encoders.js';
import type { EncoderChoice } from '../plan/choices.js';
import { mapEncodes, type Plan, regroupEncodes } from '../plan/plan.js';
import { chooseEncoder } from '../probe/encoders.js';

/**
 * Each encode's encoder as it will run here: `auto` becomes the best hardware encoder this ffmpeg lists that
 * passes a real test encode (cached a day), else x264 with one note saying what failed; a hardware encoder named
 * that does not work is exit 2 (chooseEncoder's UsageError). Nothing is probed when every encode says x264.
 */
export async function resolveEncoders(
  plan: Plan,
  ffmpeg: string,
  env: Record<string, string | undefined>,
): Promise<Plan> {
  const chosen = new Map<EncoderChoice, EncoderName>();
  const notes: string[] = [];
  for (const asked of new Set(plan.encodes.map((e) => e.video.encoder))) {
    const choice = await chooseEncoder(asked, ffmpeg, env);
    chosen.set(asked, choice.name);
    if (choice.note && !notes.includes(choice.note)) notes.push(choice.note);
  }
  const resolved = mapEncodes(plan, (e) => ({ ...e, video: { ...e.video, encoder: chosen.get(e.video.encoder)! } }));
  // `auto` that became x264 and x264 by name are one encode
  return { ...regroupEncodes(resolved), notes: [...plan.notes, ...notes] };
}
