import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, waitListening } from './ports.js';
import type { NetNs } from './netns.js';

const RTMP_MODULE = '/usr/lib/nginx/modules/ngx_rtmp_module.so';
const STREAM_MODULE = '/usr/lib/nginx/modules/ngx_stream_module.so';

/** An RTMPS front: nginx's stream module terminates TLS and passes the bytes to the RTMP port. */
export interface TlsFront {
  port: number;
  cert: string;
  key: string;
}

/** A real nginx-rtmp on a free loopback port, recording every publish (`record all`) to its own folder. */
export class NginxRtmp {
  readonly dir: string;
  readonly recordDir: string;
  port = 0;
  tls: TlsFront | undefined;
  #proc: ChildProcess | undefined;

  /** Run inside this network namespace (see NetNs) instead of the test's own; `ipv6`: also listen on [::1]. */
  constructor(
    private readonly netns?: NetNs,
    private readonly options: { ipv6?: boolean } = {},
  ) {
    this.dir = mkdtempSync(path.join(os.tmpdir(), 'rtmpush-nginx-'));
    this.recordDir = path.join(this.dir, 'rec');
    mkdirSync(this.recordDir);
    // the worker runs as nobody
    chmodSync(this.dir, 0o755);
    chmodSync(this.recordDir, 0o777);
  }

  async start(port?: number, tls?: Omit<TlsFront, 'port'>): Promise<void> {
    this.port = port ?? this.port ?? 0;
    if (!this.port) this.port = await freePort();
    if (tls && !this.tls) this.tls = { ...tls, port: await freePort() };
    const stream = this.tls
      ? `stream { server { listen 127.0.0.1:${this.tls.port} ssl; ssl_certificate ${this.tls.cert}; ` +
        `ssl_certificate_key ${this.tls.key}; proxy_pass 127.0.0.1:${this.port}; } }`
      : '';
    const conf = `load_module ${RTMP_MODULE};
${this.tls ? `load_module ${STREAM_MODULE};` : ''}
daemon off;
master_process on;
worker_processes 1;
pid ${this.dir}/nginx.pid;
error_log ${this.dir}/error.log info;
events { worker_connections 256; }
rtmp {
  server {
    listen 127.0.0.1:${this.port};
    ${this.options.ipv6 ? `listen [::1]:${this.port};` : ''}
    chunk_size 4096;
    application live { live on; record all; record_path ${this.recordDir}; record_unique off; }
    application deny { live on; deny publish all; }
    application sink { live on; }
  }
}
${stream}
`;
    writeFileSync(path.join(this.dir, 'nginx.conf'), conf);
    const args = ['-c', path.join(this.dir, 'nginx.conf'), '-p', this.dir, '-e', path.join(this.dir, 'error.log')];
    // `ip netns exec` execs nginx in place, so the PID is nginx's own
    this.#proc = this.netns
      ? spawn('ip', ['netns', 'exec', this.netns.name, 'nginx', ...args], { stdio: 'ignore' })
      : spawn('nginx', args, { stdio: 'ignore' });
    const wait = (p: number) => (this.netns ? this.netns.waitListening(p) : waitListening(p));
    await wait(this.port);
    if (this.tls) await wait(this.tls.port);
  }

  /** Sends a signal to this nginx's master and workers (by PID), e.g. SIGSTOP to make it hang. */
  signal(sig: NodeJS.Signals): void {
    const pid = this.#proc?.pid;
    if (!pid) return;
    for (const child of readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean))
      process.kill(Number(child), sig);
    process.kill(pid, sig);
  }

  url(app: string, name: string): string {
    return `rtmp://127.0.0.1:${this.port}/${app}/${name}`;
  }

  recording(name: string): string {
    return path.join(this.recordDir, `${name}.flv`);
  }

  recordings(): string[] {
    return readdirSync(this.recordDir);
  }

  log(): string {
    try {
      return readFileSync(path.join(this.dir, 'error.log'), 'utf8');
    } catch {
      return '';
    }
  }

  /** Stops this nginx by its own PID (never by name) and waits for the port to close. */
  async stop(): Promise<void> {
    const proc = this.#proc;
    this.#proc = undefined;
    if (!proc || proc.exitCode !== null) return;
    const exited = new Promise((r) => proc.once('exit', r));
    this.signal('SIGCONT');
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
