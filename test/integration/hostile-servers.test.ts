import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { writeChunks } from '../../src/rtmp/chunk-writer.js';
import { MSG } from '../../src/rtmp/message.js';
import { runCli } from '../helpers/cli.js';
import { FakeServer } from '../helpers/fake-server.js';
import { NginxRtmp } from '../helpers/nginx.js';
import { probe } from '../helpers/probe.js';
import { startCli } from '../helpers/spawn.js';
import { tempDir } from '../helpers/tmp.js';

const setChunkSize = (n: number): Buffer => {
  const payload = Buffer.alloc(4);
  payload.writeUInt32BE(n);
  return writeChunks({ csid: 2, typeId: MSG.SetChunkSize, streamId: 0, timestamp: 0, payload }, 128);
};

/** After the publish: a chunk size of 0, then an endless stream of empty fmt-3 chunks. */
function zeroChunkFlood(socket: import('node:net').Socket): void {
  socket.write(setChunkSize(0));
  const flood = Buffer.alloc(64 * 1024, 0xc3);
  const more = (): void => {
    while (!socket.destroyed && socket.write(flood));
    if (!socket.destroyed) socket.once('drain', more);
  };
  more();
}

/**
 * After the publish: messages of 60 000 bytes (under the size bound) started on thousands of chunk streams, never
 * finished.
 */
function unfinishedMessages(socket: import('node:net').Socket): void {
  socket.write(setChunkSize(4096));
  let csid = 64;
  const more = (): void => {
    while (!socket.destroyed && csid < 65_599) {
      const head = Buffer.alloc(14);
      head[0] = 1; // fmt 0, three-byte basic header
      head.writeUInt16LE(csid - 64, 1);
      head.writeUIntBE(60_000, 6, 3);
      head[9] = MSG.Video;
      csid++;
      // one whole chunk of each message, the rest never sent
      if (!socket.write(Buffer.concat([head, Buffer.alloc(4096, 1)]))) return void socket.once('drain', more);
    }
  };
  more();
}

/** After the publish: one empty message, then its one-byte header repeated without end (each an empty message). */
function emptyMessages(socket: import('node:net').Socket): void {
  socket.write(
    writeChunks({ csid: 3, typeId: MSG.CommandAmf0, streamId: 0, timestamp: 0, payload: Buffer.alloc(0) }, 128),
  );
  endless(socket, Buffer.alloc(16 * 1024, 0xc3));
}

/** After the publish: well-formed 60 000-byte messages, without end (each under the size bound). */
function chatter(socket: import('node:net').Socket): void {
  socket.write(setChunkSize(4096));
  endless(
    socket,
    writeChunks({ csid: 5, typeId: MSG.DataAmf0, streamId: 0, timestamp: 0, payload: Buffer.alloc(60_000, 7) }, 4096),
  );
}

function endless(socket: import('node:net').Socket, bytes: Buffer): void {
  const more = (): void => {
    while (!socket.destroyed && socket.write(bytes));
    if (!socket.destroyed) socket.once('drain', more);
  };
  more();
}

describe('silent, garbled and hostile servers, side by side with a healthy one (one run)', () => {
  const nginx = new NginxRtmp();
  const servers = {
    silent: new FakeServer({ silent: true }),
    garbage: new FakeServer({ garbage: Buffer.from('HTTP/1.1 400 Bad Request\r\n\r\n'.repeat(40)) }),
    flood: new FakeServer({ afterPublish: zeroChunkFlood }),
    chunks: new FakeServer({ afterPublish: unfinishedMessages }),
    echo: new FakeServer({ refuseEchoingName: 'onStatus' }),
    echo2: new FakeServer({ refuseEchoingName: '_error' }),
    empties: new FakeServer({ afterPublish: emptyMessages }),
    chatter: new FakeServer({ afterPublish: chatter }),
    noconnect: new FakeServer({ refuseConnect: true }),
    reset: new FakeServer({ resetOnPublish: true }),
  };
  const hookLog = path.join(tempDir('hostile'), 'states.ndjson');
  let run: ReturnType<typeof startCli>;
  let exitCode: number | undefined;
  let maxRssMb = 0;

  before(async () => {
    await nginx.start();
    for (const s of Object.values(servers)) await s.start();
    const to = [
      `good=${nginx.url('live', 'goodHostileKey1')}`,
      ...Object.entries(servers).map(([name, s]) => `${name}=${s.url('live', `${name}SecretKey42`)}`),
    ];
    run = startCli([
      'start',
      '--to',
      to.join(','),
      '--preset',
      '360p30',
      '--duration',
      '16s',
      '--json',
      '--uplink',
      'off',
      '--on-state',
      `cat >> ${hookLog}`,
    ]);
    const sampler = setInterval(() => {
      try {
        const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${run.proc.pid}/status`, 'utf8'))?.[1] ?? 0);
        maxRssMb = Math.max(maxRssMb, kb / 1024);
      } catch {
        // ended
      }
    }, 200);
    exitCode = (await run.proc).exitCode;
    clearInterval(sampler);
  });
  after(async () => {
    for (const s of Object.values(servers)) await s.stop();
    await nginx.dispose();
  });

  const states = (label: string) => run.events.filter((e) => e.type === 'state' && e.destination === label);
  const firstRetry = (label: string) => states(label).find((e) => e.state === 'reconnecting');
  const started = () => Date.parse(run.events.find((e) => e.type === 'start')!.time);

  it('a server that accepts and says nothing is retried after 10 s, not left connecting for the whole run', () => {
    const retry = firstRetry('silent');
    assert.ok(retry, JSON.stringify(states('silent')));
    assert.match(
      retry.reason,
      /127\.0\.0\.1:\d+ accepted the connection but did not answer the RTMP handshake within 10 s/,
    );
    const after = Date.parse(retry.time) - started();
    assert.ok(after >= 9500 && after < 12_000, `retried ${after} ms after the start`);
  });

  it('garbage after the handshake is said plainly (not blamed on the app path) and retried', () => {
    const retry = firstRetry('garbage');
    assert.ok(retry, JSON.stringify(states('garbage')));
    assert.match(retry.reason, /the server broke the RTMP protocol/);
    assert.ok(!states('garbage').some((e) => e.state === 'rejected'), 'a protocol fault is not a refusal');
  });

  it('a Set Chunk Size of 0 and a flood: that session is closed at once, and retried', () => {
    const retry = firstRetry('flood');
    assert.ok(retry, JSON.stringify(states('flood')));
    assert.match(retry.reason, /the server broke the RTMP protocol: Set Chunk Size 0 is not a valid chunk size/);
  });

  it('messages left unfinished on thousands of chunk streams: closed past the bound, memory stays bounded', () => {
    const retry = firstRetry('chunks');
    assert.ok(retry, JSON.stringify(states('chunks')));
    assert.match(retry.reason, /the server broke the RTMP protocol: more than 16 chunk streams/);
    assert.ok(maxRssMb < 250, `rtmpush held ${Math.round(maxRssMb)} MB`);
  });

  it('a flood of empty messages (one byte each) is cut off by the message rate, and retried', () => {
    const retry = firstRetry('empties');
    assert.ok(retry, JSON.stringify(states('empties')));
    assert.match(
      retry.reason,
      /the server broke the RTMP protocol: it sent more than 20000 messages in a second unasked/,
    );
  });

  it('a flood of well-formed messages is cut off by the byte rate (1 MiB a second), and retried', () => {
    const retry = firstRetry('chatter');
    assert.ok(retry, JSON.stringify(states('chatter')));
    assert.match(retry.reason, /the server broke the RTMP protocol: it sent more than 1 MiB in a second unasked/);
  });

  it('the healthy destination did not notice: live throughout, every second of the stream recorded', async () => {
    assert.deepEqual(
      states('good').map((e) => e.state),
      ['connecting', 'live', 'stopped'],
    );
    const got = await probe(nginx.recording('goodHostileKey1'));
    assert.ok(got.videoFrames >= 14 * 30, `frames ${got.videoFrames}`);
    assert.ok(got.maxFrameGapS < 0.5, `gap ${got.maxFrameGapS} s`);
  });

  it('a server that quotes the key in its refusal: rejected with its words, the key hidden everywhere', () => {
    for (const label of ['echo', 'echo2']) {
      const rejected = states(label).find((e) => e.state === 'rejected');
      assert.ok(rejected, JSON.stringify(states(label)));
      assert.match(rejected.reason, /NetStream\.Publish\.BadName: stream \*\*\*\* is not allowed here/);
      // the terminal escapes after it (clipboard, clear screen) are gone: control characters become spaces
      assert.ok(![...rejected.reason].some((c) => c < ' ' || c === '\u007f'), JSON.stringify(rejected.reason));
    }
    const printed = run.events.map((e) => JSON.stringify(e)).join('\n') + readFileSync(hookLog, 'utf8');
    for (const name of ['good', ...Object.keys(servers)])
      assert.ok(
        !printed.includes(`${name === 'good' ? 'goodHostileKey1' : `${name}SecretKey42`}`),
        `${name}'s key was printed`,
      );
    assert.ok(readFileSync(hookLog, 'utf8').includes('"echo"'), 'the hook saw the echo destination');
  });

  it('a connect _error is a refusal in the server’s words, retried slowly', () => {
    const rejected = states('noconnect').find((e) => e.state === 'rejected');
    assert.ok(rejected, JSON.stringify(states('noconnect')));
    assert.equal(rejected.reason, 'the server refused the connection: NetConnection.Connect.Rejected: app not allowed');
    assert.ok(rejected.delayMs >= 4000, `retried after ${rejected.delayMs} ms`);
  });

  it('a reset when asked to publish is the server closing on the publish: rejected (not a network fault)', () => {
    const rejected = states('reset').find((e) => e.state === 'rejected');
    assert.ok(rejected, JSON.stringify(states('reset')));
    assert.match(rejected.reason, /^the server closed the connection when asked to publish: check the key/);
    assert.ok(!states('reset').some((e) => e.state === 'reconnecting'), JSON.stringify(states('reset')));
  });

  it('the last refusal is reported as final (no next try), and the run exits 3', () => {
    const echo = states('echo');
    const last = echo.at(-1)!;
    assert.equal(last.state, 'rejected');
    assert.equal(last.nextRetryAt, undefined);
    assert.equal(echo.filter((e) => e.state === 'rejected').length, 3, JSON.stringify(echo));
    assert.equal(exitCode, 3);
  });
});

describe('doctor and uplink against garbage and endless senders: a clear step failure, never a stack or a hang', () => {
  const garbage = new FakeServer({ garbage: Buffer.from([0x03, ...Buffer.alloc(40, 0xff)]) });
  const endless = new FakeServer({ garbage: Buffer.alloc(16 * 1024, 0x02), endless: true });
  before(async () => {
    await garbage.start();
    await endless.start();
  });
  after(async () => {
    await garbage.stop();
    await endless.stop();
  });

  for (const [name, server] of [
    ['garbage', garbage],
    ['an endless sender', endless],
  ] as const) {
    it(`doctor: ${name} fails the rtmp step, exit 3`, async () => {
      const started = Date.now();
      const r = await runCli(
        ['doctor', '--to', `x=${server.url('live', 'doctorHostile1')}`, '--json', '--no-speed'],
        {},
        { timeoutMs: 30_000 },
      );
      assert.equal(r.exitCode, 3, r.stderr);
      assert.ok(!/\n\s+at /.test(r.stderr + r.stdout), 'no stack trace');
      const rtmp = r.events.find((e) => e.step === 'rtmp');
      assert.equal(rtmp?.status, 'fail', r.stdout);
      // it says what happened, not that the app was refused, and does not send the user to the app path
      assert.match(rtmp.detail, /the server broke the RTMP protocol|did not answer connect/);
      assert.doesNotMatch(rtmp.fix, /app path/);
      assert.ok(Date.now() - started < 9000, `${Date.now() - started} ms`);
    });

    it(`uplink: ${name} cannot be measured, one line, exit 3`, async () => {
      const started = Date.now();
      const r = await runCli(['uplink', '--target', server.url('live', 'uplinkHostile1')], {}, { timeoutMs: 30_000 });
      assert.equal(r.exitCode, 3, r.stderr);
      assert.match(r.stderr, /^rtmpush: uplink to target could not be measured: /m);
      assert.ok(!/\n\s+at /.test(r.stderr), 'no stack trace');
      assert.ok(Date.now() - started < 14_000, `${Date.now() - started} ms`);
    });
  }
});
