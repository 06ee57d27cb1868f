import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { decodeAmf0, encodeAmf0, type Amf0Value } from '../../src/rtmp/amf0.js';
import { ChunkReader } from '../../src/rtmp/chunk.js';
import { writeChunks } from '../../src/rtmp/chunk-writer.js';
import { MSG, type RtmpMessage } from '../../src/rtmp/message.js';

/** What a fake server does once a client has connected (see FakeServer). */
export interface FakeBehaviour {
  /** Never answer anything, not even the handshake. */
  silent?: boolean;
  /** After the handshake, send these bytes instead of RTMP (once), or an endless stream of them. */
  garbage?: Buffer;
  endless?: boolean;
  /** After Publish.Start, send this before anything else (e.g. a Set Chunk Size of 0, or unfinished messages). */
  afterPublish?: (socket: net.Socket) => void;
  /** The first acknowledgement's sequence number starts here (a counter near the 32-bit wrap). */
  ackStart?: number;
  /**
   * Refuse the publish quoting the stream name (as some servers do), in an onStatus or an _error, with terminal
   * escapes after it (OSC 52 writes the clipboard, ESC[2J clears the screen).
   */
  refuseEchoingName?: 'onStatus' | '_error';
  /** Never send an Acknowledgement (as node-media-server). */
  noAcks?: boolean;
  /** Answer `connect` with an _error (NetConnection.Connect.Rejected). */
  refuseConnect?: boolean;
  /** Reset the connection (TCP RST) when asked to publish, as a denying server can look from the client's side. */
  resetOnPublish?: boolean;
}

export interface FakeConnection {
  commands: { name: string; args: Amf0Value[] }[];
  mediaBytes: number;
  mediaMessages: number;
}

/**
 * A small RTMP server in the test process that misbehaves on purpose: silent, garbage, floods, echoed keys,
 * acknowledgement counters that start near the wrap. Good enough to take a publish when told to behave.
 */
export class FakeServer {
  readonly #server: net.Server;
  readonly connections: FakeConnection[] = [];
  readonly #sockets = new Set<net.Socket>();
  port = 0;

  constructor(private readonly behaviour: FakeBehaviour = {}) {
    this.#server = net.createServer((socket) => this.#onConnection(socket));
  }

  async start(): Promise<number> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.port = (this.#server.address() as net.AddressInfo).port;
    return this.port;
  }

  url(app: string, name: string): string {
    return `rtmp://127.0.0.1:${this.port}/${app}/${name}`;
  }

  /** Stops reading from every connection, as a hung server does: what is sent piles up in the kernel. */
  hang(): void {
    for (const s of this.#sockets) s.pause();
  }

  async stop(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #onConnection(socket: net.Socket): void {
    this.#sockets.add(socket);
    socket.on('close', () => this.#sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    const b = this.behaviour;
    const conn: FakeConnection = { commands: [], mediaBytes: 0, mediaMessages: 0 };
    this.connections.push(conn);
    if (b.silent) return;
    let hs = Buffer.alloc(0);
    let phase: 'c0c1' | 'c2' | 'chunks' = 'c0c1';
    const reader = new ChunkReader();
    let received = 0;
    let lastAck = 0;
    const send = (msg: RtmpMessage): void => void (!socket.destroyed && socket.write(writeChunks(msg, 128)));
    const command = (streamId: number, ...values: Amf0Value[]): RtmpMessage => ({
      csid: 3,
      typeId: MSG.CommandAmf0,
      streamId,
      timestamp: 0,
      payload: encodeAmf0(...values),
    });
    socket.on('data', (data: Buffer) => {
      if (phase !== 'chunks') {
        hs = Buffer.concat([hs, data]);
        if (phase === 'c0c1' && hs.length >= 1537) {
          socket.write(Buffer.concat([Buffer.from([3]), Buffer.alloc(8), randomBytes(1528), hs.subarray(1, 1537)]));
          hs = hs.subarray(1537);
          phase = 'c2';
        }
        if (phase === 'c2' && hs.length >= 1536) {
          data = hs.subarray(1536);
          phase = 'chunks';
          if (b.garbage) return this.#sendGarbage(socket, b.garbage, Boolean(b.endless));
        } else return;
      }
      received += data.length;
      for (const msg of reader.push(data)) {
        if (msg.typeId === MSG.Video || msg.typeId === MSG.Audio) {
          conn.mediaBytes += msg.payload.length;
          conn.mediaMessages++;
        } else if (msg.typeId === MSG.CommandAmf0) {
          const [name, txn, ...args] = decodeAmf0(msg.payload) as [string, number, ...Amf0Value[]];
          conn.commands.push({ name, args });
          if (name === 'connect' && b.refuseConnect) {
            const info = { level: 'error', code: 'NetConnection.Connect.Rejected', description: 'app not allowed' };
            send(command(0, '_error', txn, null, info));
          } else if (name === 'connect')
            send(
              command(
                0,
                '_result',
                txn,
                { fmsVer: 'FMS/3,0,1,123' },
                { level: 'status', code: 'NetConnection.Connect.Success' },
              ),
            );
          else if (name === 'createStream') send(command(0, '_result', txn, null, 1));
          else if (name === 'publish' && b.resetOnPublish) return void socket.resetAndDestroy();
          else if (name === 'publish' && b.refuseEchoingName) {
            const info = {
              level: 'error',
              code: 'NetStream.Publish.BadName',
              description: `stream ${String(args[1])} is not allowed here\u001b]52;c;aGk=\u0007\u001b[2J`,
            };
            send(
              b.refuseEchoingName === '_error'
                ? command(0, '_error', txn, null, info)
                : command(1, 'onStatus', 0, null, info),
            );
          } else if (name === 'publish') {
            send({
              ...command(1, 'onStatus', 0, null, {
                level: 'status',
                code: 'NetStream.Publish.Start',
                description: `Publishing ${String(args[1])}.`,
              }),
              streamId: 1,
            });
            b.afterPublish?.(socket);
          }
        }
      }
      // Acknowledge every 64 KiB received, counting from ackStart (modulo 2^32).
      if (!b.noAcks && received - lastAck >= 65_536) {
        lastAck = received;
        const payload = Buffer.alloc(4);
        payload.writeUInt32BE(((b.ackStart ?? 0) + received) % 2 ** 32);
        send({ csid: 2, typeId: MSG.Acknowledgement, streamId: 0, timestamp: 0, payload });
      }
    });
  }

  #sendGarbage(socket: net.Socket, garbage: Buffer, endless: boolean): void {
    if (!endless) return void socket.write(garbage);
    const more = (): void => {
      while (!socket.destroyed && socket.write(garbage));
      if (!socket.destroyed) socket.once('drain', more);
    };
    more();
  }
}
