/**
 * Another local user trying to feed a destination through a loopback port: `node stranger.js URL SECONDS`.
 * Publishes video frames that carry the bytes STRANGER (keyframes, so a relay would forward them at once) at
 * 30 fps, and dials again whenever the connection drops. Run as uid nobody by the security test.
 */
import net from 'node:net';
import { MSG } from '../../src/rtmp/message.js';
import { PublisherSession } from '../../src/rtmp/publisher.js';

export const MARK = Buffer.from('STRANGER');

async function attempt(url: URL, until: number): Promise<void> {
  const port = Number(url.port || 1935);
  const socket = net.connect(port, url.hostname);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const [app = 'live', name = 'x'] = url.pathname.split('/').filter(Boolean);
  const session = await new Promise<PublisherSession>((resolve, reject) => {
    const s: PublisherSession = new PublisherSession(
      socket,
      { endpoint: { protocol: 'rtmp', host: url.hostname, port, app }, name, deadlineMs: 3000 },
      { onPublished: () => resolve(s), onEnd: () => reject(new Error('refused')) },
    );
  });
  const frame = Buffer.concat([Buffer.from([0x17, 1, 0, 0, 0]), MARK, Buffer.alloc(2000, 0x42)]);
  for (let ts = 0; Date.now() < until && !socket.destroyed; ts += 33) {
    session.send({ csid: 6, typeId: MSG.Video, streamId: session.streamId, timestamp: ts, payload: frame });
    await new Promise((r) => setTimeout(r, 33));
  }
  session.close();
}

async function main(): Promise<void> {
  const url = new URL(process.argv[2]!);
  const until = Date.now() + Number(process.argv[3] ?? 4) * 1000;
  let tries = 0;
  while (Date.now() < until) {
    tries++;
    await attempt(url, until).catch(() => new Promise((r) => setTimeout(r, 50)));
  }
  process.stdout.write(`${tries} tries\n`);
}

if (process.argv[1]?.endsWith('stranger.js') && process.argv[2]) void main();
