import { X509Certificate } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { UsageError } from '../errors.js';

/** How rtmps:// servers are checked: read once at start, used by every dial (relays, doctor, uplink). */
export interface TlsPolicy {
  insecure: boolean;
  /** The trusted CAs when a private CA is added; undefined = Node's own store (with NODE_EXTRA_CA_CERTS). */
  ca?: string[];
}

const MAX_CA_FILE = 1024 * 1024;
const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/**
 * RTMPUSH_CA_FILE adds a private CA to the store rtmpush trusts; it does not replace it. Node's `ca` option
 * replaces the default store, so the list is the store's own roots, NODE_EXTRA_CA_CERTS and the file's certificates.
 */
export function tlsPolicy(env: Record<string, string | undefined>, cwd: string, insecure: boolean): TlsPolicy {
  const raw = env.RTMPUSH_CA_FILE;
  if (!raw) return { insecure };
  const own = readCertificates(path.resolve(cwd, raw), `RTMPUSH_CA_FILE ${raw}`);
  const extra = env.NODE_EXTRA_CA_CERTS ? tryReadCertificates(env.NODE_EXTRA_CA_CERTS) : [];
  return { insecure, ca: [...tls.rootCertificates, ...extra, ...own] };
}

function readCertificates(file: string, what: string): string[] {
  let size: number;
  try {
    const stat = statSync(file);
    if (!stat.isFile()) throw new UsageError(`${what}: not a file: give a PEM file with the CA's certificate`);
    size = stat.size;
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`${what}: no such file`);
  }
  if (size > MAX_CA_FILE) throw new UsageError(`${what}: larger than 1 MB: give a PEM file with the CA's certificate`);
  const certs = readFileSync(file, 'latin1').match(PEM_CERT) ?? [];
  for (const pem of certs) {
    try {
      new X509Certificate(pem);
    } catch {
      throw new UsageError(
        `${what}: holds a certificate that cannot be read: give a PEM file with the CA's certificate`,
      );
    }
  }
  if (certs.length === 0) throw new UsageError(`${what}: no PEM certificate in it (-----BEGIN CERTIFICATE-----)`);
  return certs;
}

/** Node reads NODE_EXTRA_CA_CERTS itself (and only warns when it cannot): the same here. */
function tryReadCertificates(file: string): string[] {
  try {
    return statSync(file).size <= MAX_CA_FILE ? (readFileSync(file, 'latin1').match(PEM_CERT) ?? []) : [];
  } catch {
    return [];
  }
}
