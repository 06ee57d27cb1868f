import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FloodMeter, SERVER_BYTES_PER_S, SERVER_MESSAGES_PER_S } from '../../src/rtmp/flood.js';
import { ACK_WINDOW } from '../../src/rtmp/message.js';

describe('FloodMeter: what a server may send in a second', () => {
  it('1 MiB unasked while we send nothing: a byte more is a flood', () => {
    const meter = new FloodMeter(() => 0);
    assert.equal(meter.bytes(SERVER_BYTES_PER_S), false);
    assert.equal(meter.bytes(4096), true);
  });

  it('plus the acknowledgements what we sent asks for, even when they come late in a lump', () => {
    let sent = 0;
    const meter = new FloodMeter(() => sent);
    sent = 3e9;
    // 3 GB sent on loopback is 45 776 acks: their bytes arrive together, with the 1 MiB of other talk on top
    const acks = Math.ceil(sent / ACK_WINDOW);
    assert.equal(meter.bytes(acks * 16), false);
    assert.equal(meter.bytes(SERVER_BYTES_PER_S), false);
    // past what we sent asks for, it is a flood
    assert.equal(meter.bytes(acks * 32), true);
  });

  it('messages other than acknowledgements: at most the bound a second', () => {
    const meter = new FloodMeter(() => 0);
    assert.equal(meter.messages(SERVER_MESSAGES_PER_S), false);
    assert.equal(meter.messages(1), true);
  });
});
