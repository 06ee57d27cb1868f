import { UsageError } from '../errors.js';
import { loadConfig } from '../config/load.js';
import { resolveDestinations, type Destination } from '../platforms/destinations.js';
import { parseFullUrl } from '../platforms/urls.js';
import { printJson } from '../report/ndjson.js';
import { hasTestMode } from '../platforms/table.js';
import { Secret, redact } from '../secret.js';
import { writeCachedUplink } from '../uplink/cache.js';
import { measureUplink, type UplinkMeasurement } from '../uplink/measure.js';
import { describeNetwork, findRoute } from '../uplink/network.js';
import { tlsPolicy } from '../net/tls-policy.js';
import { exitCodeFor } from '../run/exit-code.js';
import type { CliIo } from './io.js';

export function testDestination(flags: { to?: string; target?: string; config?: string }, io: CliIo): Destination {
  if (flags.to && flags.target) throw new UsageError('uplink: give --to or --target, not both');
  if (flags.target) return { ...parseFullUrl(flags.target, '--target'), label: 'target' };
  const config = loadConfig({ explicit: flags.config, cwd: io.cwd, env: io.env });
  // uplink.target in the config file: a test URL, or a destination with a test mode
  const fromConfig = config.config.uplink?.target;
  if (!flags.to && fromConfig && fromConfig.includes('://'))
    return { ...parseFullUrl(fromConfig, 'uplink.target in the config file'), label: 'target' };
  const to = flags.to ?? fromConfig;
  if (!to)
    throw new UsageError(
      'uplink needs --to twitch|restream (their test modes), --target rtmp://host/app/key of a test ingest, ' +
        'or uplink.target in the config file',
    );
  const [dest] = resolveDestinations([to], { env: io.env, config: config.config });
  if (!dest) throw new UsageError('uplink needs one destination');
  const suffix = hasTestMode(dest.platform) ? dest.platform.testKeySuffix : undefined;
  if (dest.kind === 'local')
    throw new UsageError(
      'uplink: the embedded server is on this machine, so it measures nothing: use --to twitch|restream or --target',
    );
  if (!suffix) {
    const use = 'use --to twitch|restream or --target with a test ingest';
    throw new UsageError(`uplink: ${dest.label} has no test mode, so a measurement would go on air: ${use}`);
  }
  return { ...dest, key: new Secret(dest.key.reveal() + suffix) };
}

/** `rtmpush uplink`: measures sustained upload throughput to an ingest, from what it acknowledged. */
export async function uplinkCommand(
  flags: { to?: string; target?: string; seconds?: string; json?: boolean; config?: string },
  io: CliIo,
): Promise<number> {
  const seconds = flags.seconds === undefined ? 10 : Number(flags.seconds);
  if (!(seconds >= 4 && seconds <= 60)) throw new UsageError(`--seconds ${flags.seconds}: give 4 to 60`);
  const dest = testDestination(flags, io);
  const started = Date.now();
  let m: Awaited<ReturnType<typeof measureUplink>>;
  try {
    m = await measureUplink(dest, {
      seconds,
      tls: tlsPolicy(io.env, io.cwd, false),
      onProgress: flags.json
        ? undefined
        : (ms, kbps) =>
            io.stderr.write(
              `measuring the uplink to ${dest.label}: ${Math.round(ms / 1000)}/${seconds} s` +
                `${kbps ? `, ${(kbps / 1000).toFixed(1)} Mbps so far` : ', warming up'}\n`,
            ),
    });
  } catch (error) {
    const message = redact(error instanceof Error ? error.message : String(error));
    const line = `uplink to ${dest.label} could not be measured: ${message}`;
    if (flags.json) printJson((t) => io.stdout.write(t), 'error', { code: 'uplink-failed', message: line });
    else io.stderr.write(`rtmpush: ${line}\n`);
    return exitCodeFor({ command: 'uplink', measured: false });
  }
  // The figure holds for the network it was made on: start applies it only there, so it is kept only with it.
  const network = await findRoute(dest.endpoint.host, dest.endpoint.port).catch((e: Error) => e);
  const notKept =
    network instanceof Error
      ? `not kept: the network it was made on could not be identified (${network.message})`
      : keep(io.env, { ...m, network });
  const on = network instanceof Error ? '' : `${describeNetwork(network)} (the way to ${network.target})`;
  const where = notKept ?? `measured on ${on}: start applies it on this network only`;
  if (flags.json)
    printJson((t) => io.stdout.write(t), 'uplink', {
      ...m,
      ...(network instanceof Error ? { network: null } : { network }),
      ...(notKept ? { notKept } : {}),
    });
  else {
    io.stdout.write(
      `uplink to ${dest.label}: ${(m.kbps / 1000).toFixed(2)} Mbps sustained ` +
        `(what the server acknowledged after a 2 s warm-up; varied ±${m.variationPct} % second to second; ` +
        `${((Date.now() - started) / 1000).toFixed(1)} s)\n${redact(where)}\n`,
    );
  }
  return exitCodeFor({ command: 'uplink', measured: true });
}

/** Into the cache; what went wrong when it could not be kept (a folder another user could write to, a full disk). */
function keep(env: Record<string, string | undefined>, m: UplinkMeasurement): string | undefined {
  try {
    writeCachedUplink(env, m);
    return undefined;
  } catch (error) {
    return `not kept: ${error instanceof Error ? error.message : String(error)}`;
  }
}
