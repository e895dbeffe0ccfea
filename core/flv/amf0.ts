/**
 * AMF0 (Action Message Format 0), as used by FLV script tags and RTMP commands.
 *
 * JS mapping:
 * - number, boolean, string (short and long), null, undefined map to themselves.
 * - object → plain object.
 * - ECMA array → plain object too, so `metadata.width` reads naturally, carrying the non-enumerable
 *   `AMF0_ECMA_ARRAY` symbol so the encoder writes it back as an ECMA array (byte-exact round trip).
 * - strict array → Array.
 * - date → Date; its time-zone field (spec'd as reserved, normally 0) is kept under the non-enumerable
 *   `AMF0_DATE_TZ` symbol when non-zero so it round-trips too.
 *
 * Limits of the mapping: JS objects iterate integer-like keys first, so an object whose keys were
 * ["b", "1"] re-encodes as ["1", "b"]. Reference, typed-object, XML, movieclip, recordset and AMF3
 * switch markers are rejected: FLV metadata does not use them.
 */
import { Amf0Error } from '../errors.js';

/** Non-enumerable marker on a decoded ECMA array (a plain object); its value is `true`. */
export const AMF0_ECMA_ARRAY: unique symbol = Symbol.for('wsflv.amf0.ecmaArray');
/** Non-enumerable time-zone field (minutes, signed 16-bit) on a decoded Date when it was non-zero. */
export const AMF0_DATE_TZ: unique symbol = Symbol.for('wsflv.amf0.dateTz');

/** Containers deeper than this are rejected: hostile input must not be able to exhaust the stack. */
export const AMF0_MAX_DEPTH = 64;

const enum Marker {
  Number = 0x00,
  Boolean = 0x01,
  String = 0x02,
  Object = 0x03,
  MovieClip = 0x04,
  Null = 0x05,
  Undefined = 0x06,
  Reference = 0x07,
  EcmaArray = 0x08,
  ObjectEnd = 0x09,
  StrictArray = 0x0a,
  Date = 0x0b,
  LongString = 0x0c,
  Unsupported = 0x0d,
  RecordSet = 0x0e,
  XmlDocument = 0x0f,
  TypedObject = 0x10,
  AvmPlus = 0x11,
}

const UNSUPPORTED_NAMES: Record<number, string> = {
  [Marker.MovieClip]: 'movieclip',
  [Marker.Reference]: 'reference',
  [Marker.Unsupported]: 'unsupported',
  [Marker.RecordSet]: 'recordset',
  [Marker.XmlDocument]: 'XML document',
  [Marker.TypedObject]: 'typed object',
  [Marker.AvmPlus]: 'AVM+ (AMF3 switch)',
};

/** Mark a plain object so `encodeAmf0` writes it as an ECMA array rather than an object. */
export function markEcmaArray<T extends object>(obj: T): T {
  Object.defineProperty(obj, AMF0_ECMA_ARRAY, { value: true, enumerable: false, configurable: true, writable: true });
  return obj;
}

export function isEcmaArray(value: unknown): boolean {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[AMF0_ECMA_ARRAY] === true;
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(2, '0')}`;
}

// ---------------------------------------------------------------------------------------------
// Decoding

class Reader {
  pos = 0;
  constructor(readonly buf: Buffer, readonly base: number) {}

  fail(message: string, at = this.pos): never {
    throw new Amf0Error(`AMF0: ${message}`, this.base + at);
  }

  need(n: number, what: string): void {
    const left = this.buf.length - this.pos;
    if (left < n) this.fail(`expected ${what} (${n} bytes), only ${left} left`);
  }

  u8(what: string): number {
    this.need(1, what);
    return this.buf[this.pos++]!;
  }

  u16(what: string): number {
    this.need(2, what);
    const v = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  u32(what: string): number {
    this.need(4, what);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  utf8(len: number, what: string): string {
    this.need(len, what);
    const s = this.buf.toString('utf8', this.pos, this.pos + len);
    this.pos += len;
    return s;
  }

  value(depth: number): unknown {
    const start = this.pos;
    const marker = this.u8('a type marker');
    switch (marker) {
      case Marker.Number: {
        this.need(8, 'an 8-byte number');
        const v = this.buf.readDoubleBE(this.pos);
        this.pos += 8;
        return v;
      }
      case Marker.Boolean:
        return this.u8('a boolean byte') !== 0;
      case Marker.String:
        return this.utf8(this.u16('a string length'), 'string bytes');
      case Marker.LongString:
        return this.utf8(this.u32('a long string length'), 'long string bytes');
      case Marker.Null:
        return null;
      case Marker.Undefined:
        return undefined;
      case Marker.Object:
        return this.properties(depth + 1, start, undefined);
      case Marker.EcmaArray: {
        const count = this.u32('an ECMA array count');
        return markEcmaArray(this.properties(depth + 1, start, count));
      }
      case Marker.StrictArray: {
        this.enter(depth + 1, start);
        const count = this.u32('a strict array count');
        // Every element takes at least one byte: checking first keeps a forged count from looping.
        const left = this.buf.length - this.pos;
        if (count > left) this.fail(`strict array declares ${count} elements but only ${left} bytes are left`, start);
        const arr: unknown[] = [];
        for (let i = 0; i < count; i++) arr.push(this.value(depth + 1));
        return arr;
      }
      case Marker.Date: {
        this.need(10, 'a date (8-byte time and 2-byte time zone)');
        const d = new Date(this.buf.readDoubleBE(this.pos));
        const tz = this.buf.readInt16BE(this.pos + 8);
        this.pos += 10;
        if (tz !== 0) Object.defineProperty(d, AMF0_DATE_TZ, { value: tz, enumerable: false, configurable: true, writable: true });
        return d;
      }
      case Marker.ObjectEnd:
        return this.fail('unexpected object-end marker, expected a value', start);
      default: {
        const name = UNSUPPORTED_NAMES[marker];
        return this.fail(
          name ? `unsupported type marker ${hex(marker)} (${name})` : `unknown type marker ${hex(marker)}, expected 0x00-0x0c`,
          start,
        );
      }
    }
  }

  private enter(depth: number, at: number): void {
    if (depth > AMF0_MAX_DEPTH) this.fail(`nesting deeper than ${AMF0_MAX_DEPTH} levels`, at);
  }

  /**
   * Object and ECMA array bodies: key/value pairs up to the empty-key + object-end terminator.
   * The ECMA array count is advisory (writers get it wrong), but a body that stops exactly after
   * `count` pairs with no terminator is accepted, as some writers omit it.
   */
  private properties(depth: number, start: number, count: number | undefined): Record<string, unknown> {
    this.enter(depth, start);
    const obj: Record<string, unknown> = {};
    let n = 0;
    for (;;) {
      if (count !== undefined && n >= count && this.pos === this.buf.length) return obj;
      const key = this.utf8(this.u16('a property name length or the object-end marker'), 'property name bytes');
      if (key === '' && this.pos < this.buf.length && this.buf[this.pos] === Marker.ObjectEnd) {
        this.pos++;
        return obj;
      }
      if (this.pos >= this.buf.length && key === '') this.fail('expected the object-end marker', this.pos);
      const v = this.value(depth);
      // defineProperty, not assignment: a "__proto__" key must become data, not a prototype swap.
      Object.defineProperty(obj, key, { value: v, enumerable: true, configurable: true, writable: true });
      n++;
    }
  }
}

/**
 * Decode every AMF0 value in `buf`. Errors are `Amf0Error` with the offset `baseOffset + local offset`.
 * Tolerated junk: a stray top-level object-end marker (0x09), or exactly `00 00 09` as the last bytes,
 * which some writers append after onMetaData; both are skipped.
 */
export function decodeAmf0(buf: Buffer, baseOffset = 0): unknown[] {
  const r = new Reader(buf, baseOffset);
  const values: unknown[] = [];
  while (r.pos < buf.length) {
    const left = buf.length - r.pos;
    if (buf[r.pos] === Marker.ObjectEnd) {
      r.pos++;
      continue;
    }
    if (left === 3 && buf[r.pos] === 0 && buf[r.pos + 1] === 0 && buf[r.pos + 2] === Marker.ObjectEnd) break;
    values.push(r.value(0));
  }
  return values;
}

// ---------------------------------------------------------------------------------------------
// Encoding

class Writer {
  buf = Buffer.allocUnsafe(256);
  pos = 0;

  fail(message: string): never {
    throw new Amf0Error(`AMF0 encode: ${message}`, this.pos);
  }

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v;
  }

  u16(v: number): void {
    this.ensure(2);
    this.buf.writeUInt16BE(v, this.pos);
    this.pos += 2;
  }

  u32(v: number): void {
    this.ensure(4);
    this.buf.writeUInt32BE(v, this.pos);
    this.pos += 4;
  }

  double(v: number): void {
    this.ensure(8);
    this.buf.writeDoubleBE(v, this.pos);
    this.pos += 8;
  }

  bytes(b: Buffer): void {
    this.ensure(b.length);
    b.copy(this.buf, this.pos);
    this.pos += b.length;
  }

  key(k: string): void {
    const b = Buffer.from(k, 'utf8');
    if (b.length > 0xffff) this.fail(`property name of ${b.length} bytes exceeds 65535`);
    this.u16(b.length);
    this.bytes(b);
  }

  value(v: unknown, depth: number): void {
    switch (typeof v) {
      case 'number':
        this.u8(Marker.Number);
        this.double(v);
        return;
      case 'boolean':
        this.u8(Marker.Boolean);
        this.u8(v ? 1 : 0);
        return;
      case 'string': {
        const b = Buffer.from(v, 'utf8');
        if (b.length > 0xffff) {
          this.u8(Marker.LongString);
          this.u32(b.length);
        } else {
          this.u8(Marker.String);
          this.u16(b.length);
        }
        this.bytes(b);
        return;
      }
      case 'undefined':
        this.u8(Marker.Undefined);
        return;
      case 'object':
        break;
      default:
        this.fail(`cannot encode a value of type ${typeof v}`);
    }
    if (v === null) {
      this.u8(Marker.Null);
      return;
    }
    if (depth >= AMF0_MAX_DEPTH) this.fail(`nesting deeper than ${AMF0_MAX_DEPTH} levels (cyclic value?)`);
    if (v instanceof Date) {
      this.u8(Marker.Date);
      this.double(v.getTime());
      this.ensure(2);
      const tz = (v as unknown as Record<symbol, unknown>)[AMF0_DATE_TZ];
      this.buf.writeInt16BE(typeof tz === 'number' ? tz : 0, this.pos);
      this.pos += 2;
      return;
    }
    if (Array.isArray(v)) {
      this.u8(Marker.StrictArray);
      this.u32(v.length);
      for (let i = 0; i < v.length; i++) this.value(v[i], depth + 1);
      return;
    }
    const proto = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) {
      this.fail(`cannot encode an instance of ${(v as object).constructor?.name ?? 'a non-plain object'}`);
    }
    const keys = Object.keys(v);
    if (isEcmaArray(v)) {
      this.u8(Marker.EcmaArray);
      this.u32(keys.length);
    } else {
      this.u8(Marker.Object);
    }
    for (const k of keys) {
      this.key(k);
      this.value((v as Record<string, unknown>)[k], depth + 1);
    }
    this.u16(0);
    this.u8(Marker.ObjectEnd);
  }
}

/** Encode values back to back. Strings longer than 65535 UTF-8 bytes become long strings. */
export function encodeAmf0(values: unknown[]): Buffer {
  const w = new Writer();
  for (const v of values) w.value(v, 0);
  return Buffer.from(w.buf.subarray(0, w.pos));
}

// ---------------------------------------------------------------------------------------------
// Script tags

export interface ScriptData {
  name: string;
  values: unknown[];
  /** Present (true) when the tag was `@setDataFrame` wrapping `name`, as RTMP publishers send it. */
  wrapped?: true;
}

/** A script tag body: a name string, then its arguments. `@setDataFrame` wrappers are unwrapped. */
export function decodeScriptData(body: Buffer, baseOffset = 0): ScriptData {
  if (body.length === 0 || (body[0] !== Marker.String && body[0] !== Marker.LongString)) {
    throw new Amf0Error(
      `AMF0: script data must start with its name as a string (marker 0x02), got ${body.length === 0 ? 'no bytes' : `marker ${hex(body[0]!)}`}`,
      baseOffset,
    );
  }
  const values = decodeAmf0(body, baseOffset);
  const name = values[0] as string;
  if (name === '@setDataFrame' && typeof values[1] === 'string') {
    return { name: values[1], values: values.slice(2), wrapped: true };
  }
  return { name, values: values.slice(1) };
}

export function encodeScriptData(name: string, values: unknown[]): Buffer {
  return encodeAmf0([name, ...values]);
}
