import { readFileSync } from 'node:fs';

export interface Tag {
  type: number;
  timestamp: number;
  data: Buffer;
}

/** The tags of an FLV file in file order (header, then tag + previous-tag-size pairs). */
export function flvTags(file: string | Buffer): Tag[] {
  const bytes = typeof file === 'string' ? readFileSync(file) : file;
  const tags: Tag[] = [];
  let at = bytes.readUInt32BE(5) + 4;
  while (at + 11 <= bytes.length) {
    const size = bytes.readUIntBE(at + 1, 3);
    const timestamp = (bytes.readUIntBE(at + 4, 3) | (bytes[at + 7]! << 24)) >>> 0;
    if (at + 11 + size > bytes.length) break;
    tags.push({ type: bytes[at]!, timestamp, data: bytes.subarray(at + 11, at + 11 + size) });
    at += 11 + size + 4;
  }
  return tags;
}

/** Video tags only: AVC sequence headers, keyframes and inter frames. */
export const videoTags = (file: string | Buffer): Tag[] => flvTags(file).filter((t) => t.type === 9);
export const isAvcHeader = (t: Tag): boolean => t.data[0] === 0x17 && t.data[1] === 0;
export const isKeyframe = (t: Tag): boolean => t.data[0] === 0x17 && t.data[1] === 1;
