import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { UsageError } from '../errors.js';

export interface LocateInput {
  flag?: string;
  env: Record<string, string | undefined>;
  platform: NodeJS.Platform;
}

/** Whether `file` is there and this user may run it. */
export const executable = (file: string): boolean => {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

function onPath(name: string, env: Record<string, string | undefined>, platform: NodeJS.Platform): string | undefined {
  const exts = platform === 'win32' ? ['.exe', ''] : [''];
  for (const dir of (env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    for (const ext of exts) {
      const file = path.join(dir, name + ext);
      if (executable(file)) return file;
    }
  }
  return undefined;
}

function fromStaticPackage(pkg: string): string | undefined {
  try {
    const req = createRequire(import.meta.url);
    const mod: unknown = req(pkg);
    const file = typeof mod === 'string' ? mod : (mod as { path?: string } | null)?.path;
    return file && executable(file) ? file : undefined;
  } catch {
    return undefined;
  }
}

function installHint(tool: string, platform: NodeJS.Platform): string {
  if (platform === 'darwin') return `brew install ffmpeg`;
  if (platform === 'win32') return `winget install ffmpeg`;
  return `sudo apt-get install -y ffmpeg (or pass --${tool} PATH)`;
}

/** ffmpeg: --ffmpeg, RTMPUSH_FFMPEG, ffmpeg-static's binary, then PATH. */
export function locateFfmpeg(input: LocateInput): string {
  return locate('ffmpeg', 'RTMPUSH_FFMPEG', 'ffmpeg-static', input);
}

/** ffprobe: --ffprobe, RTMPUSH_FFPROBE, ffprobe-static's binary, beside the chosen ffmpeg, then PATH. */
export function locateFfprobe(input: LocateInput, ffmpeg?: string): string {
  if (!input.flag && !input.env.RTMPUSH_FFPROBE && ffmpeg) {
    const beside = path.join(path.dirname(ffmpeg), path.basename(ffmpeg).replace('ffmpeg', 'ffprobe'));
    if (beside !== ffmpeg && executable(beside)) return beside;
  }
  return locate('ffprobe', 'RTMPUSH_FFPROBE', 'ffprobe-static', input);
}

function locate(tool: string, envVar: string, pkg: string, input: LocateInput): string {
  const chosen = input.flag ?? input.env[envVar];
  if (chosen) {
    if (!executable(chosen))
      throw new UsageError(`${input.flag ? `--${tool}` : envVar} ${chosen}: not an executable file`);
    return chosen;
  }
  const found = fromStaticPackage(pkg) ?? onPath(tool, input.env, input.platform);
  if (!found) throw new UsageError(`${tool} not found: install it (${installHint(tool, input.platform)})`);
  return found;
}
