import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { describe, it } from 'node:test';
import { MASK, Secret, redact } from '../../src/secret.js';

describe('Secret and redact', () => {
  it('never prints itself', () => {
    const s = new Secret('abc123secret');
    assert.equal(String(s), MASK);
    assert.equal(`${s}`, MASK);
    assert.equal(JSON.stringify({ s }), `{"s":"${MASK}"}`);
    assert.equal(inspect({ s }), `{ s: ${MASK} }`);
    assert.equal(s.reveal(), 'abc123secret');
  });

  const cases: [string, string[], string, string][] = [
    ['plain', ['k3y-plain-1'], 'Error opening rtmp://h/live/k3y-plain-1: Connection refused', 'Error opening rtmp://h/live/****: Connection refused'],
    ['twice', ['twice-key-9'], 'twice-key-9 and twice-key-9', '**** and ****'],
    ['percent-encoded', ['a b/c?d'], 'url rtmp://h/live/a%20b%2Fc%3Fd', 'url rtmp://h/live/****'],
    ['longest first', ['abcdefgh-short', 'abcdefgh-short-and-longer'], 'x abcdefgh-short-and-longer y', 'x **** y'],
    ['untouched', [], 'nothing secret here', 'nothing secret here'],
    ['short key: only as a token', ['k', 'test'], 'rtmp://h/app/k 800k kbps /live/test testing', 'rtmp://h/app/**** 800k kbps /live/**** testing'],
  ];
  for (const [name, secrets, input, want] of cases) {
    it(name, () => {
      secrets.forEach((v) => new Secret(v));
      assert.equal(redact(input), want);
    });
  }
});
