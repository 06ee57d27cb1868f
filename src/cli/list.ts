import { loadConfig } from '../config/load.js';
import { endpointUrl, envName } from '../platforms/destinations.js';
import { parseBaseUrl, parseFullUrl } from '../platforms/urls.js';
import { PLATFORM_IDS, defaultIngest, findPlatform } from '../platforms/table.js';
import { loadPresets } from '../presets/load.js';
import { printJson } from '../report/ndjson.js';
import { MASK, redact } from '../secret.js';
import type { CliIo } from './io.js';

/** `rtmpush presets`. */
export function presetsCommand(flags: { json?: boolean; config?: string }, io: CliIo): number {
  const config = loadConfig({ explicit: flags.config, cwd: io.cwd, env: io.env });
  const entries = loadPresets(config.file);
  if (flags.json) {
    printJson((t) => io.stdout.write(t), 'presets', {
      presets: entries.map((e) => ({ ...e.preset, builtIn: e.builtIn, file: e.file })),
    });
    return 0;
  }
  for (const { preset: p, builtIn } of entries) {
    io.stdout.write(
      `${p.name.padEnd(9)} ${`${p.width}x${p.height}@${p.fps}`.padEnd(14)} ` +
        `${String(p.videoKbps).padStart(5)} kbps video, ${p.audio.kbps} kbps audio  ` +
        `${p.description}${builtIn ? '' : ' (user)'}\n`,
    );
  }
  return 0;
}

/** `rtmpush destinations`: built-in platforms and config destinations, with whether a key is set (never the key). */
export function destinationsCommand(flags: { json?: boolean; config?: string }, io: CliIo): number {
  const config = loadConfig({ explicit: flags.config, cwd: io.cwd, env: io.env });
  const set = (v: string | undefined): boolean => v !== undefined && v.trim() !== '';
  const platforms = PLATFORM_IDS.map((id) => {
    const p = findPlatform(id)!;
    const urlVar = envName(id, 'URL');
    const keyVar = envName(id, 'KEY');
    return {
      name: id,
      kind: 'platform',
      title: p.name,
      url: io.env[urlVar] ?? defaultIngest(p) ?? '',
      keySet: set(io.env[keyVar]),
      keyFrom: keyVar,
      maxVideoKbps: p.maxVideoKbps ?? null,
    };
  });
  const fromConfig = Object.entries(config.config.destinations ?? {}).map(([name, d]) => {
    let url = d.platform ? `${d.platform} ingest` : '';
    if (d.url) {
      try {
        // a url without key or keyEnv carries the key as its last segment: parse it as such, show it masked
        url =
          d.key || d.keyEnv
            ? endpointUrl(parseBaseUrl(d.url, name))
            : `${endpointUrl(parseFullUrl(d.url, name).endpoint)}/${MASK}`;
      } catch {
        url = '(invalid URL)';
      }
    }
    return {
      name,
      kind: 'config',
      title: d.platform ?? 'custom',
      url,
      keySet: Boolean(d.key) || set(d.keyEnv ? io.env[d.keyEnv] : undefined) || Boolean(d.url && !d.key && !d.keyEnv),
      keyFrom: d.keyEnv ?? (d.key ? 'config file' : 'url'),
    };
  });
  const all = [
    {
      name: 'local',
      kind: 'local',
      title: 'embedded test server',
      url: 'rtmp://127.0.0.1:<free port>/live',
      keySet: true,
      keyFrom: 'generated',
    },
    ...platforms,
    ...fromConfig,
  ];
  if (flags.json) {
    printJson((t) => io.stdout.write(t), 'destinations', { destinations: all, config: config.file ?? null });
    return 0;
  }
  for (const d of all) {
    io.stdout.write(
      redact(
        `${d.name.padEnd(10)} ${d.kind.padEnd(8)} ${d.keySet ? 'key set ' : 'no key  '} ` +
          `${d.url}  (${d.title}; key from ${d.keyFrom})\n`,
      ),
    );
  }
  return 0;
}
