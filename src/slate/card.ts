import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** 5×7 glyphs, one string per row ('#' lit), for the card's words. */
const GLYPHS: Record<string, string[]> = {
  A: ['.###.', '#...#', '#...#', '#####', '#...#', '#...#', '#...#'],
  B: ['####.', '#...#', '#...#', '####.', '#...#', '#...#', '####.'],
  C: ['.###.', '#...#', '#....', '#....', '#....', '#...#', '.###.'],
  E: ['#####', '#....', '#....', '####.', '#....', '#....', '#####'],
  G: ['.###.', '#...#', '#....', '#.###', '#...#', '#...#', '.###.'],
  H: ['#...#', '#...#', '#...#', '#####', '#...#', '#...#', '#...#'],
  I: ['.###.', '..#..', '..#..', '..#..', '..#..', '..#..', '.###.'],
  K: ['#...#', '#..#.', '#.#..', '##...', '#.#..', '#..#.', '#...#'],
  R: ['####.', '#...#', '#...#', '####.', '#.#..', '#..#.', '#...#'],
  T: ['#####', '..#..', '..#..', '..#..', '..#..', '..#..', '..#..'],
  ' ': ['.....', '.....', '.....', '.....', '.....', '.....', '.....'],
};

export const CARD_TEXT = 'BE RIGHT BACK';
const BACKGROUND = 0x20;
const INK = 0xe0;

/**
 * The default slate: "BE RIGHT BACK" in light grey on dark grey, the size of the stream, as a binary PGM (an
 * image every ffmpeg reads). Drawn by rtmpush itself: nothing to ship, no font needed. Pure.
 */
export function renderCard(width: number, height: number, text = CARD_TEXT): Buffer {
  const header = `P5\n${width} ${height}\n255\n`;
  // one buffer, header then pixels (a 1080p card is 2 MB: made and joined, it was twice that)
  const out = Buffer.allocUnsafe(header.length + width * height);
  out.write(header, 'ascii');
  const pixels = out.subarray(header.length).fill(BACKGROUND);
  const cells = text.length * 6 - 1;
  // the text spans about 60 % of the width, in whole pixels per dot
  const dot = Math.max(1, Math.floor((width * 0.6) / cells));
  const left = Math.floor((width - cells * dot) / 2);
  const top = Math.floor((height - 7 * dot) / 2);
  [...text].forEach((ch, i) => {
    const glyph = GLYPHS[ch] ?? GLYPHS[' ']!;
    glyph.forEach((row, y) => {
      for (let x = 0; x < 5; x++) {
        if (row[x] !== '#') continue;
        for (let dy = 0; dy < dot; dy++) {
          const start = (top + y * dot + dy) * width + left + (i * 6 + x) * dot;
          pixels.fill(INK, start, start + dot);
        }
      }
    });
  });
  return out;
}

/** The card written to a private temporary folder for ffmpeg to read; `dispose` removes it. */
export function writeCard(width: number, height: number): { path: string; dispose: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rtmpush-slate-'));
  const file = path.join(dir, 'slate.pgm');
  writeFileSync(file, renderCard(width, height), { mode: 0o600 });
  return { path: file, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}
