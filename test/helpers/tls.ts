import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';

/** A throw-away CA and a server certificate for 127.0.0.1 signed by it, made with openssl. */
export async function makeTestCa(): Promise<{
  dir: string;
  caCert: string;
  cert: string;
  key: string;
  selfSignedCert: string;
  selfSignedKey: string;
  dispose: () => void;
}> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rtmpush-ca-'));
  const f = (n: string): string => path.join(dir, n);
  const ssl = (...args: string[]) => execa('openssl', args, { cwd: dir });
  await ssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    f('ca.key'),
    '-out',
    f('ca.pem'),
    '-days',
    '2',
    '-subj',
    '/CN=rtmpush test CA',
  );
  await ssl(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    f('server.key'),
    '-out',
    f('server.csr'),
    '-subj',
    '/CN=127.0.0.1',
  );
  await execa('bash', ['-c', `printf 'subjectAltName=IP:127.0.0.1\\n' > ${f('san.ext')}`]);
  await ssl(
    'x509',
    '-req',
    '-in',
    f('server.csr'),
    '-CA',
    f('ca.pem'),
    '-CAkey',
    f('ca.key'),
    '-CAcreateserial',
    '-out',
    f('server.pem'),
    '-days',
    '2',
    '-extfile',
    f('san.ext'),
  );
  await ssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    f('self.key'),
    '-out',
    f('self.pem'),
    '-days',
    '2',
    '-subj',
    '/CN=127.0.0.1',
    '-addext',
    'subjectAltName=IP:127.0.0.1',
  );
  return {
    dir,
    caCert: f('ca.pem'),
    cert: f('server.pem'),
    key: f('server.key'),
    selfSignedCert: f('self.pem'),
    selfSignedKey: f('self.key'),
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}
