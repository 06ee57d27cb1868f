import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { freePort, waitListening } from './ports.js';

interface NmsInstance {
  run(): Promise<void>;
  stop(): Promise<void>;
  on(event: string, listener: (session: { streamPath?: string }) => void): void;
}

/**
 * node-media-server 4 on a free loopback port, in the test process, recording every publish to a temporary folder:
 * a second real RTMP server whose behaviour differs from nginx-rtmp's (it never acknowledges; it answers a taken
 * name with Publish.Start and a close). A test dependency only.
 */
export class NodeMediaServer {
  readonly dir: string;
  port = 0;
  #nms: NmsInstance | undefined;
  readonly published = new Set<string>();

  constructor() {
    this.dir = mkdtempSync(path.join(os.tmpdir(), 'rtmpush-nms-'));
  }

  async start(): Promise<void> {
    const require = createRequire(import.meta.url);
    // node-media-server logs to stdout with console.log; that would corrupt NDJSON output.
    const logger = require('node-media-server/src/core/logger.js') as { log: (...args: unknown[]) => void };
    logger.log = () => {};
    const Nms = require('node-media-server') as new (config: object, configPath?: string) => NmsInstance;
    this.port = await freePort();
    this.#nms = new Nms({
      bind: '127.0.0.1',
      rtmp: { port: this.port },
      record: { path: path.join(this.dir, 'record'), auto: true },
      store: { path: path.join(this.dir, 'store') },
      webadmin: { enable: false },
      notify: { url: '' },
      auth: { play: false, publish: false },
    });
    this.#nms.on('postPublish', (session) => {
      if (session.streamPath) this.published.add(session.streamPath);
    });
    await this.#nms.run();
    await waitListening(this.port);
  }

  /** The recorded FLV files of a stream path such as /live/NAME, oldest first. */
  recordings(streamPath: string): string[] {
    const dir = path.join(this.dir, 'record', ...streamPath.split('/').filter(Boolean));
    try {
      return readdirSync(dir)
        .filter((f) => f.endsWith('.flv'))
        .map((f) => path.join(dir, f))
        .sort((a, b) => statSync(a).mtimeMs - statSync(b).mtimeMs);
    } catch {
      return [];
    }
  }

  async stop(): Promise<void> {
    await this.#nms?.stop();
    this.#nms = undefined;
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
