import type net from 'node:net';
import { connectTcp, DialError, upgradeTls } from '../net/dial.js';
import type { TlsPolicy } from '../net/tls-policy.js';
import type { Destination } from '../platforms/destinations.js';
import { defaultIngest, expectedApp, platformHints, rtmpsIngest } from '../platforms/table.js';
import { checkDns, checkKeyShape, rtmpConnect, type StepResult, TIMEOUT_MS } from './steps.js';

export interface DoctorOptions {
  tls: TlsPolicy;
}

const SLOW_RTT_MS = 150;

/** A dial's failure as the step shows it: the error code, or that nothing answered in time. */
const errCode = (e: unknown): string =>
  e instanceof DialError
    ? e.failure.kind === 'silent'
      ? `no answer within ${e.failure.ms / 1000} s`
      : e.failure.code
    : String(e);

/** Checks one destination step by step without publishing anything; stops at the first step that fails. */
export async function diagnose(
  dest: Destination,
  opts: DoctorOptions,
  report: (r: StepResult) => void,
): Promise<boolean> {
  const { endpoint } = dest;
  const { platform } = dest;
  const rtmpsUrl = platform && rtmpsIngest(platform);
  const fail = (r: StepResult): false => {
    report(r);
    return false;
  };

  const key = checkKeyShape(dest.key.reveal(), dest.keyFrom ?? 'the key');
  report({ ...key, ms: 0 });
  if (key.status === 'fail') return false;

  const dns = await checkDns(endpoint.host);
  report(dns);
  if (dns.status === 'fail') return false;

  let tcp: { socket: net.Socket; ms: number };
  try {
    tcp = await connectTcp(endpoint.host, endpoint.port, TIMEOUT_MS);
    report({
      step: 'tcp',
      status: 'pass',
      detail: `${endpoint.host}:${endpoint.port} accepts connections`,
      ms: tcp.ms,
    });
  } catch (error) {
    let fix = 'check the port in the URL, and any firewall in between';
    if (endpoint.port === 1935 && rtmpsUrl) {
      try {
        const alt = await connectTcp(new URL(rtmpsUrl).hostname, 443, TIMEOUT_MS);
        alt.socket.destroy();
        fix = `port 1935 looks blocked but 443 is open: use the RTMPS URL ${rtmpsUrl}`;
      } catch {
        fix = 'port 1935 and 443 both fail: check your network or firewall';
      }
    }
    return fail({
      step: 'tcp',
      status: 'fail',
      detail: `${endpoint.host}:${endpoint.port}: ${errCode(error)}`,
      fix,
      ms: 0,
    });
  }

  let socket: net.Socket = tcp.socket;
  if (endpoint.protocol === 'rtmps') {
    try {
      const t = performance.now();
      socket = await upgradeTls(tcp.socket, endpoint.host, opts.tls, TIMEOUT_MS);
      report({
        step: 'tls',
        status: opts.tls.insecure ? 'warn' : 'pass',
        detail: opts.tls.insecure ? 'TLS up, certificate NOT checked (--insecure-tls)' : 'TLS up, certificate trusted',
        ms: Math.round(performance.now() - t),
      });
    } catch (error) {
      tcp.socket.destroy();
      return fail({
        step: 'tls',
        status: 'fail',
        detail: `TLS: ${errCode(error)}`,
        fix: 'a private CA goes in RTMPUSH_CA_FILE; --insecure-tls skips the check (not for real keys)',
        ms: 0,
      });
    }
  } else if (rtmpsUrl) {
    report({
      step: 'tls',
      status: 'warn',
      detail: 'plain RTMP: the key crosses the network unencrypted',
      fix: `use the RTMPS URL ${rtmpsUrl}`,
      ms: 0,
    });
  }

  const outcome = await rtmpConnect(socket, endpoint, {
    host: endpoint.host,
    port: endpoint.port,
    app: endpoint.app,
    ...platformHints(platform),
  });
  if (!outcome.ok) {
    const want = platform ? expectedApp(platform) : undefined;
    let fix = `check that ${endpoint.host}:${endpoint.port} is an RTMP ingest (the URL from your platform)`;
    if (outcome.appProblem) {
      fix =
        want && want !== endpoint.app
          ? `${platform!.name} expects the app "${want}": ${defaultIngest(platform!)}/KEY`
          : `check the app path "${endpoint.app}" in the URL`;
    }
    return fail({
      step: 'rtmp',
      status: 'fail',
      // what happened, in the words the relay uses (a timeout or garbage is not a refusal)
      detail: `connect to app "${endpoint.app}": ${outcome.detail}`,
      fix,
      ms: outcome.handshakeMs,
    });
  }
  report({
    step: 'rtmp',
    status: 'pass',
    detail: `connect to app "${endpoint.app}" accepted (${outcome.detail}); nothing was published`,
    ms: outcome.handshakeMs,
  });
  const rtt = Math.min(tcp.ms || outcome.handshakeMs, outcome.handshakeMs || tcp.ms);
  report({
    step: 'rtt',
    status: rtt > SLOW_RTT_MS ? 'warn' : 'pass',
    detail: `${rtt} ms round trip`,
    ...(rtt > SLOW_RTT_MS ? { fix: 'a closer ingest server would cut latency and reconnect time' } : {}),
    ms: rtt,
  });
  return true;
}
