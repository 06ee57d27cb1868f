import { UsageError } from '../errors.js';

/** A `HOST:PORT` flag (`--metrics`, `--listen`); `port` is the example's. Bad input is exit 2. */
export function parseHostPort(value: string, flag: string, example: number): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(value);
  const port = m ? Number(m[3]) : 0;
  if (!m || port < 1 || port > 65535)
    throw new UsageError(`${flag} ${value}: give HOST:PORT, e.g. 127.0.0.1:${example} or [::1]:${example}`);
  return { host: m[1] ?? m[2]!, port };
}

/** `--metrics HOST:PORT`: where Prometheus scrapes. */
export const parseMetricsAddress = (value: string): { host: string; port: number } =>
  parseHostPort(value, '--metrics', 9464);

/** Only this machine reaches it: a loopback address or name. */
export function isLoopback(host: string): boolean {
  const h = host.toLowerCase().replace(/^::ffff:/, '');
  return /^127(?:\.\d{1,3}){3}$/.test(h) || /^(?:0{0,4}:){2,7}0{0,3}1$/.test(h) || h === 'localhost';
}

/** What to tell the user of metrics served where others can read them, if anything. */
export function metricsExposure(value: string, host: string): string | undefined {
  if (isLoopback(host)) return undefined;
  return (
    `--metrics ${value}: anyone who can reach this address reads the metrics (destination labels, states and ` +
    'figures; never a key or URL): serve them on 127.0.0.1, or keep the port behind a firewall'
  );
}
