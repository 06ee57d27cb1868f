/** AMF0 values as rtmpush needs them (RTMP commands and metadata). */
export type Amf0Value = number | boolean | string | null | undefined | Date | Amf0Object | Amf0Value[];
export interface Amf0Object {
  [key: string]: Amf0Value;
}

enum T {
  Number = 0x00,
  Boolean = 0x01,
  String = 0x02,
  Object = 0x03,
  Null = 0x05,
  Undefined = 0x06,
  EcmaArray = 0x08,
  ObjectEnd = 0x09,
  StrictArray = 0x0a,
  Date = 0x0b,
  LongString = 0x0c,
}

export function encodeAmf0(...values: Amf0Value[]): Buffer {
  const parts: Buffer[] = [];
  for (const v of values) writeValue(v, parts);
  return Buffer.concat(parts);
}

function writeKey(key: string, parts: Buffer[]): void {
  const b = Buffer.from(key, 'utf8');
  const len = Buffer.alloc(2);
  len.writeUInt16BE(b.length);
  parts.push(len, b);
}

function writeValue(v: Amf0Value, parts: Buffer[]): void {
  if (v === null) return void parts.push(Buffer.from([T.Null]));
  if (v === undefined) return void parts.push(Buffer.from([T.Undefined]));
  if (typeof v === 'number') {
    const b = Buffer.alloc(9);
    b[0] = T.Number;
    b.writeDoubleBE(v, 1);
    return void parts.push(b);
  }
  if (typeof v === 'boolean') return void parts.push(Buffer.from([T.Boolean, v ? 1 : 0]));
  if (typeof v === 'string') {
    const s = Buffer.from(v, 'utf8');
    if (s.length > 0xffff) {
      const h = Buffer.alloc(5);
      h[0] = T.LongString;
      h.writeUInt32BE(s.length, 1);
      return void parts.push(h, s);
    }
    const h = Buffer.alloc(3);
    h[0] = T.String;
    h.writeUInt16BE(s.length, 1);
    return void parts.push(h, s);
  }
  if (v instanceof Date) {
    const b = Buffer.alloc(11);
    b[0] = T.Date;
    b.writeDoubleBE(v.getTime(), 1);
    return void parts.push(b);
  }
  if (Array.isArray(v)) {
    const h = Buffer.alloc(5);
    h[0] = T.StrictArray;
    h.writeUInt32BE(v.length, 1);
    parts.push(h);
    for (const item of v) writeValue(item, parts);
    return;
  }
  parts.push(Buffer.from([T.Object]));
  for (const [k, item] of Object.entries(v)) {
    writeKey(k, parts);
    writeValue(item, parts);
  }
  parts.push(Buffer.from([0, 0, T.ObjectEnd]));
}

/** Decodes every value in the buffer (a command: name, transaction id, object, args...). */
export function decodeAmf0(buf: Buffer): Amf0Value[] {
  const out: Amf0Value[] = [];
  const pos = { at: 0 };
  while (pos.at < buf.length) out.push(readValue(buf, pos));
  return out;
}

function need(buf: Buffer, pos: { at: number }, n: number): void {
  if (pos.at + n > buf.length) throw new RangeError('AMF0: truncated value');
}

function readKey(buf: Buffer, pos: { at: number }): string {
  need(buf, pos, 2);
  const len = buf.readUInt16BE(pos.at);
  need(buf, pos, 2 + len);
  const s = buf.toString('utf8', pos.at + 2, pos.at + 2 + len);
  pos.at += 2 + len;
  return s;
}

function readProps(buf: Buffer, pos: { at: number }): Amf0Object {
  const obj: Amf0Object = {};
  for (;;) {
    need(buf, pos, 3);
    if (buf.readUInt16BE(pos.at) === 0 && buf[pos.at + 2] === T.ObjectEnd) {
      pos.at += 3;
      return obj;
    }
    const key = readKey(buf, pos);
    obj[key] = readValue(buf, pos);
  }
}

function readValue(buf: Buffer, pos: { at: number }): Amf0Value {
  need(buf, pos, 1);
  const type = buf[pos.at++];
  switch (type) {
    case T.Number:
      need(buf, pos, 8);
      pos.at += 8;
      return buf.readDoubleBE(pos.at - 8);
    case T.Boolean:
      need(buf, pos, 1);
      return buf[pos.at++] !== 0;
    case T.String:
      return readKey(buf, pos);
    case T.LongString: {
      need(buf, pos, 4);
      const len = buf.readUInt32BE(pos.at);
      need(buf, pos, 4 + len);
      pos.at += 4 + len;
      return buf.toString('utf8', pos.at - len, pos.at);
    }
    case T.Object:
      return readProps(buf, pos);
    case T.EcmaArray:
      need(buf, pos, 4);
      pos.at += 4;
      return readProps(buf, pos);
    case T.StrictArray: {
      need(buf, pos, 4);
      const n = buf.readUInt32BE(pos.at);
      pos.at += 4;
      const arr: Amf0Value[] = [];
      for (let i = 0; i < n; i++) arr.push(readValue(buf, pos));
      return arr;
    }
    case T.Date:
      need(buf, pos, 10);
      pos.at += 10;
      return new Date(buf.readDoubleBE(pos.at - 10));
    case T.Null:
      return null;
    case T.Undefined:
      return undefined;
    default:
      throw new RangeError(`AMF0: unsupported type 0x${(type ?? 0).toString(16)}`);
  }
}
