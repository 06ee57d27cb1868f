import { X509Certificate } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { MAX_SMALL_FILE, readSmallFile } from '../util/files.js';
import path from 'node:path';
import tls from 'node:tls';
import { UsageError } from '../errors.js';

/** How rtmps:// servers are checked: read once at start, used by every dial (relays, doctor, uplink). */
export interface TlsPolicy {
  insecure: boolean;
  /** The trusted CAs when a private CA is added; undefined = Node's own store (with NODE_EXTRA_CA_CERTS). */
  ca?: string[];
}

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

const contexts = new WeakMap<TlsPolicy, tls.SecureContext>();

/**
 * The policy's trusted CAs as one TLS context, made on first use and kept: given as `ca`, every connection parsed
 * the ~150 roots again into a store of its own (each reconnect and retry of every rtmps destination).
 */
export function secureContextOf(policy: TlsPolicy): tls.SecureContext | undefined {
  if (!policy.ca) return undefined;
  let context = contexts.get(policy);
  if (!context) {
    context = tls.createSecureContext({ ca: policy.ca });
    contexts.set(policy, context);
  }
  return context;
}

function readCertificates(file: string, what: string): string[] {
  const certs = readSmallFile(file, what).match(PEM_CERT) ?? [];
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
    return statSync(file).size <= MAX_SMALL_FILE ? (readFileSync(file, 'latin1').match(PEM_CERT) ?? []) : [];
  } catch {
    return [];
  }
}
