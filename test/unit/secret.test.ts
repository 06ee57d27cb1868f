import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { describe, it } from 'node:test';
import { MASK, Secret, redact } from '../../src/secret.js';
import { parseSource } from '../../src/plan/source.js';

describe('source URLs', () => {
  it('their stream name, password and token-like values are hidden', () => {
    parseSource({ source: 'rtmp://feed.example/live/srcStreamKey77', os: 'linux' });
    parseSource({ source: 'srt://h:9000?passphrase=srtPassPhrase88&latency=200', os: 'linux' });
    parseSource({ source: 'https://user:httpPassWord99@h/x.m3u8?token=tok3nValue00', os: 'linux' });
    assert.equal(
      redact(
        'rtmp://feed.example/live/srcStreamKey77 srt://h:9000?passphrase=srtPassPhrase88&latency=200 ' +
          'https://user:httpPassWord99@h/x.m3u8?token=tok3nValue00',
      ),
      'rtmp://feed.example/live/**** srt://h:9000?passphrase=****&latency=200 https://user:****@h/x.m3u8?token=****',
    );
  });
});

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
    [
      'plain',
      ['k3y-plain-1'],
      'Error opening rtmp://h/live/k3y-plain-1: Connection refused',
      'Error opening rtmp://h/live/****: Connection refused',
    ],
    ['twice', ['twice-key-9'], 'twice-key-9 and twice-key-9', '**** and ****'],
    ['percent-encoded', ['a b/c?d'], 'url rtmp://h/live/a%20b%2Fc%3Fd', 'url rtmp://h/live/****'],
    ['longest first', ['abcdefgh-short', 'abcdefgh-short-and-longer'], 'x abcdefgh-short-and-longer y', 'x **** y'],
    ['untouched', [], 'nothing secret here', 'nothing secret here'],
    [
      'short key: only where a key stands (a URL path segment, a query value), never inside words or states',
      ['show', 'a1b2'],
      'rtmp://h/live/show 800k "state":"show" -map 1:a:0 showtime /show/x ?k=a1b2&x=1 \'rtmp://h/live/show\'',
      'rtmp://h/live/**** 800k "state":"show" -map 1:a:0 showtime /show/x ?k=****&x=1 \'rtmp://h/live/****\'',
    ],
  ];
  for (const [name, secrets, input, want] of cases) {
    it(name, () => {
      for (const v of secrets) new Secret(v);
      assert.equal(redact(input), want);
    });
  }
});
