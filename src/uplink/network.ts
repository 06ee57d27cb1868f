import dgram from 'node:dgram';
import { lookup as dnsLookup } from 'node:dns/promises';
import os from 'node:os';

/** The network an uplink measurement was made on: how this machine reaches the measurement's target. */
export interface UplinkNetwork {
  /** The address this machine sends from to reach the target. */
  localAddress: string;
  /** The interface that holds that address (`unknown` when none lists it). */
  interface: string;
  /** The target's host name and port, never its URL: the key is in the path. */
  target: string;
  port: number;
}

export type Lookup = (host: string) => Promise<{ address: string; family: number }>;

export interface RouteOptions {
  /** The name lookup and the route together: a lookup that hangs holds nobody longer (default 2 s). */
  timeoutMs?: number;
  lookup?: Lookup;
  interfaces?: () => NodeJS.Dict<os.NetworkInterfaceInfo[]>;
}

/** How long finding the route may take at most, by default. */
export const ROUTE_TIMEOUT_MS = 2000;

/**
 * The local address and interface this machine uses to reach `host:port` now: a UDP socket connected to the
 * resolved address (connect sends nothing) is given the source address the routing table picks. Rejects with what
 * went wrong, in a few words, when the name does not resolve in time or there is no route.
 */
export async function findRoute(host: string, port: number, opts: RouteOptions = {}): Promise<UplinkNetwork> {
  const timeoutMs = opts.timeoutMs ?? ROUTE_TIMEOUT_MS;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${host} did not resolve within ${timeoutMs / 1000} s`)), timeoutMs);
  });
  try {
    const { address, family } = await Promise.race([(opts.lookup ?? dnsLookup)(host), late]).catch((error) => {
      throw isErrno(error) ? new Error(`${host} did not resolve (${error.code})`) : error;
    });
    const localAddress = await Promise.race([sourceAddress(address, family, port), late]).catch((error) => {
      throw isErrno(error) ? new Error(`no route to ${host} (${error.code})`) : error;
    });
    const name = interfaceOf(localAddress, (opts.interfaces ?? os.networkInterfaces)());
    return { localAddress, interface: name ?? 'unknown', target: host, port };
  } finally {
    clearTimeout(timer);
  }
}

const isErrno = (error: unknown): error is NodeJS.ErrnoException & { code: string } =>
  error instanceof Error && typeof (error as NodeJS.ErrnoException).code === 'string';

/** The source address the kernel would send from to `address`: a connected UDP socket's own address. */
function sourceAddress(address: string, family: number, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket(family === 6 ? 'udp6' : 'udp4');
    socket.on('error', (error) => {
      try {
        socket.close();
      } catch {
        // never bound: nothing to close
      }
      reject(error);
    });
    socket.connect(port, address, (error?: Error) => {
      if (error) return socket.emit('error', error);
      const local = socket.address().address;
      socket.close();
      resolve(local);
    });
  });
}

/** The interface that holds `address` (an IPv6 scope such as `%eth0` is ignored). */
export function interfaceOf(address: string, interfaces: NodeJS.Dict<os.NetworkInterfaceInfo[]>): string | undefined {
  const bare = address.replace(/%.*$/, '').toLowerCase();
  for (const [name, infos] of Object.entries(interfaces))
    if (infos?.some((info) => info.address.toLowerCase() === bare)) return name;
  return undefined;
}

/** The same network: the same local address on the same interface. */
export function sameNetwork(a: UplinkNetwork, b: UplinkNetwork): boolean {
  return a.localAddress === b.localAddress && a.interface === b.interface;
}

/** `wlan0 192.168.1.20`, as the messages show a network. */
export const describeNetwork = (n: UplinkNetwork): string => `${n.interface} ${n.localAddress}`;
