import assert from 'node:assert/strict';
import net from 'node:net';
import { MSG } from '../../src/rtmp/chunk.js';
import { RtmpClient } from '../../src/rtmp/client.js';

/** An AVC sequence header as an FLV video payload (keyframe, AVC packet type 0). */
export const AVC_SEQUENCE_HEADER = Buffer.from([0x17, 0, 0, 0, 0, 1, 0x64, 0, 0x1f, 0xff, 0xe1, 0, 0]);

/**
 * Plays ffmpeg's part against a relay in this process: publishes on the relay's loopback port as ffmpeg's tee leg
 * does, and returns `video(timestamp, payload)` to send FLV video payloads on that stream.
 */
export async function publishToRelay(port: number): Promise<{ client: RtmpClient; video: (timestamp: number, payload: Buffer) => void }> {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise((resolve) => socket.once('connect', resolve));
  const client = new RtmpClient(socket, { protocol: 'rtmp', host: '127.0.0.1', port, app: 'rtmpush' });
  await client.handshake();
  assert.ok((await client.connect()).ok);
  assert.ok((await client.publish('leg')).ok);
  const video = (timestamp: number, payload: Buffer): void => {
    client.write({ csid: 6, typeId: MSG.Video, streamId: client.streamId, timestamp, payload });
  };
  return { client, video };
}

/** Waits until frame `i` of a stream at `fps` that started at `started` (ms) is due: real-time pacing. */
export function frameDue(started: number, i: number, fps: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, started + (i * 1000) / fps - Date.now())));
}
