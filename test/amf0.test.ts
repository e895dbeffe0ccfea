import test from 'ava';
import { Amf0Error, FlvError } from '../core/errors.js';
import {
  AMF0_DATE_TZ,
  AMF0_MAX_DEPTH,
  decodeAmf0,
  decodeScriptData,
  encodeAmf0,
  encodeScriptData,
  isEcmaArray,
  markEcmaArray,
} from '../core/flv/amf0.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

function str16(s: string): Buffer {
  const b = Buffer.from(s, 'utf8');
  const len = Buffer.alloc(2);
  len.writeUInt16BE(b.length);
  return Buffer.concat([len, b]);
}

test('number', (t) => {
  const bytes = hex('00 40 09 21 fb 54 44 2d 18');
  t.deepEqual(decodeAmf0(bytes), [Math.PI]);
  t.deepEqual(encodeAmf0([Math.PI]), bytes);
  t.deepEqual(decodeAmf0(encodeAmf0([-0, Infinity, 1e300])), [-0, Infinity, 1e300]);
  t.true(Number.isNaN(decodeAmf0(encodeAmf0([NaN]))[0]));
});

test('boolean, null, undefined', (t) => {
  const bytes = hex('01 01 01 00 05 06');
  t.deepEqual(decodeAmf0(bytes), [true, false, null, undefined]);
  t.deepEqual(encodeAmf0([true, false, null, undefined]), bytes);
  t.deepEqual(decodeAmf0(hex('01 07')), [true], 'any non-zero byte is true');
});

test('string and UTF-8', (t) => {
  const bytes = Buffer.concat([hex('02'), str16('héllo ✓')]);
  t.deepEqual(decodeAmf0(bytes), ['héllo ✓']);
  t.deepEqual(encodeAmf0(['héllo ✓']), bytes);
  t.deepEqual(encodeAmf0(['']), hex('02 0000'));
});

test('long string: encoder switches above 65535 bytes', (t) => {
  const short = 'a'.repeat(0xffff);
  const long = 'a'.repeat(0x10000);
  const s = encodeAmf0([short]);
  t.is(s[0], 0x02);
  t.is(s.length, 3 + 0xffff);
  const l = encodeAmf0([long]);
  t.is(l[0], 0x0c);
  t.is(l.readUInt32BE(1), 0x10000);
  t.deepEqual(decodeAmf0(l), [long]);
  // Multi-byte characters count by bytes, not UTF-16 units.
  const wide = '€'.repeat(30000); // 90000 bytes
  t.is(encodeAmf0([wide])[0], 0x0c);
  t.deepEqual(decodeAmf0(encodeAmf0([wide])), [wide]);
  // A long string with a small length still decodes.
  t.deepEqual(decodeAmf0(hex('0c 00000002 6869')), ['hi']);
});

test('object', (t) => {
  const bytes = Buffer.concat([hex('03'), str16('a'), hex('00 3ff0000000000000'), str16('b'), hex('02'), str16('x'), hex('000009')]);
  const [v] = decodeAmf0(bytes);
  t.deepEqual(v, { a: 1, b: 'x' });
  t.false(isEcmaArray(v));
  t.deepEqual(encodeAmf0([{ a: 1, b: 'x' }]), bytes);
  t.deepEqual(encodeAmf0([{}]), hex('03 0000 09'));
});

test('ECMA array: reads like an object, re-encodes as an ECMA array', (t) => {
  const bytes = Buffer.concat([hex('08 00000002'), str16('width'), hex('00 4084000000000000'), str16('stereo'), hex('01 01'), hex('000009')]);
  const [meta] = decodeAmf0(bytes) as [Record<string, unknown>];
  t.is(meta.width, 640);
  t.deepEqual(meta, { width: 640, stereo: true });
  t.true(isEcmaArray(meta));
  t.deepEqual(Object.keys(meta), ['width', 'stereo'], 'marker is not enumerable');
  t.is(JSON.stringify(meta), '{"width":640,"stereo":true}');
  t.deepEqual(encodeAmf0([meta]), bytes);
  t.deepEqual(encodeAmf0([markEcmaArray({ width: 640, stereo: true })]), bytes);
});

test('ECMA array: count is advisory; a missing terminator at the very end is tolerated', (t) => {
  const wrongCount = Buffer.concat([hex('08 00000000'), str16('a'), hex('05'), hex('000009')]);
  t.deepEqual(decodeAmf0(wrongCount), [{ a: null }]);
  const noEnd = Buffer.concat([hex('08 00000001'), str16('a'), hex('05')]);
  t.deepEqual(decodeAmf0(noEnd), [{ a: null }]);
  const noEndWrongCount = Buffer.concat([hex('08 00000002'), str16('a'), hex('05')]);
  const e = t.throws(() => decodeAmf0(noEndWrongCount), { instanceOf: Amf0Error });
  t.is(e.offset, noEndWrongCount.length);
});

test('strict array', (t) => {
  const bytes = hex('0a 00000003 00 3ff0000000000000 02 0001 78 05');
  t.deepEqual(decodeAmf0(bytes), [[1, 'x', null]]);
  t.deepEqual(encodeAmf0([[1, 'x', null]]), bytes);
  t.deepEqual(encodeAmf0([[]]), hex('0a 00000000'));
});

test('date keeps its time-zone field', (t) => {
  const bytes = hex('0b 4273d1a5e0000000 0000');
  const [d] = decodeAmf0(bytes) as [Date];
  t.true(d instanceof Date);
  t.is(d.getTime(), 0x13d1a5e0000);
  t.deepEqual(encodeAmf0([d]), bytes);
  const withTz = hex('0b 4273d1a5e0000000 ff88');
  const [dz] = decodeAmf0(withTz) as [Date];
  t.is((dz as unknown as Record<symbol, unknown>)[AMF0_DATE_TZ], -120);
  t.deepEqual(encodeAmf0([dz]), withTz);
});

test('nested round trip', (t) => {
  const value = {
    name: 'x',
    list: [1, [2, [3, { deep: true }]], markEcmaArray({ k: 'v' })],
    when: new Date(1700000000000),
    nothing: null,
    missing: undefined,
  };
  const bytes = encodeAmf0([value, 'tail', 42]);
  const decoded = decodeAmf0(bytes);
  t.deepEqual(decoded, [value, 'tail', 42]);
  t.deepEqual(encodeAmf0(decoded), bytes);
});

test('a "__proto__" key is plain data', (t) => {
  const bytes = Buffer.concat([hex('03'), str16('__proto__'), hex('03'), str16('polluted'), hex('0101 000009 000009')]);
  const [o] = decodeAmf0(bytes) as [Record<string, unknown>];
  t.is(Object.getPrototypeOf(o), Object.prototype);
  t.deepEqual(Object.keys(o), ['__proto__']);
  t.is(({} as Record<string, unknown>).polluted, undefined);
  t.deepEqual(encodeAmf0([o]), bytes);
});

test('onMetaData without and with @setDataFrame', (t) => {
  const meta = markEcmaArray({ duration: 10, width: 640, height: 360, videocodecid: 7 });
  const plain = encodeScriptData('onMetaData', [meta]);
  const d = decodeScriptData(plain);
  t.is(d.name, 'onMetaData');
  t.is(d.wrapped, undefined);
  t.is((d.values[0] as { width: number }).width, 640);
  t.deepEqual(encodeScriptData(d.name, d.values), plain);

  const wrapped = encodeAmf0(['@setDataFrame', 'onMetaData', meta]);
  const w = decodeScriptData(wrapped);
  t.is(w.name, 'onMetaData');
  t.true(w.wrapped);
  t.deepEqual(w.values, [meta]);
  // Stripping the wrapper is encoding the unwrapped form.
  t.deepEqual(encodeScriptData(w.name, w.values), plain);
});

test('script data must start with a name string', (t) => {
  const e1 = t.throws(() => decodeScriptData(encodeAmf0([1])), { instanceOf: Amf0Error });
  t.is(e1.offset, 0);
  const e2 = t.throws(() => decodeScriptData(Buffer.alloc(0), 500), { instanceOf: Amf0Error });
  t.is(e2.offset, 500);
  t.is(e2.code, 'WSFLV_ERR_AMF0');
});

test('tolerated junk: trailing 00 00 09 and a stray object-end marker', (t) => {
  const body = Buffer.concat([encodeAmf0(['onMetaData', markEcmaArray({ a: 1 })]), hex('000009')]);
  t.deepEqual(decodeScriptData(body).values, [{ a: 1 }]);
  t.deepEqual(decodeAmf0(hex('05 09 05')), [null, null]);
});

test('truncated input throws Amf0Error with the offset and what was expected', (t) => {
  const cases: Array<[string, number, RegExp]> = [
    ['00 3ff000', 1, /8-byte number/],
    ['01', 1, /boolean/],
    ['02 0005 6869', 3, /string bytes/],
    ['02 00', 1, /string length/],
    ['0c 00000010 6869', 5, /long string bytes/],
    ['03 0001 61', 4, /type marker/],
    ['03 0001 61 05', 5, /property name length or the object-end marker/],
    ['03 0000', 3, /object-end marker/],
    ['08 0000', 1, /ECMA array count/],
    ['0a 00000005 05', 0, /declares 5 elements/],
    ['0b 00000000', 1, /date/],
  ];
  for (const [h, offset, re] of cases) {
    const e = t.throws(() => decodeAmf0(hex(h), 1000), { instanceOf: Amf0Error }, h);
    t.is(e.offset, 1000 + offset, h);
    t.regex(e.message, re, h);
    t.regex(e.message, new RegExp(`at byte ${1000 + offset}`), h);
  }
});

test('unknown and unsupported markers are named', (t) => {
  const e = t.throws(() => decodeAmf0(hex('05 07 0001')), { instanceOf: Amf0Error });
  t.is(e.offset, 1);
  t.regex(e.message, /0x07 \(reference\)/);
  t.regex(t.throws(() => decodeAmf0(hex('11')), { instanceOf: Amf0Error }).message, /AMF3/);
  t.regex(t.throws(() => decodeAmf0(hex('42')), { instanceOf: Amf0Error }).message, /unknown type marker 0x42/);
  t.regex(t.throws(() => decodeAmf0(hex('03 0001 61 09')), { instanceOf: Amf0Error }).message, /object-end/);
});

test('deep nesting is bounded, not a stack overflow', (t) => {
  // Strict arrays of one element, nested far past the limit.
  const nested = Buffer.concat([...Array.from({ length: 20_000 }, () => hex('0a 00000001')), hex('05')]);
  const e = t.throws(() => decodeAmf0(nested), { instanceOf: Amf0Error });
  t.regex(e.message, new RegExp(`deeper than ${AMF0_MAX_DEPTH}`));

  const objects = Buffer.concat([...Array.from({ length: 200 }, () => Buffer.concat([hex('03'), str16('k')])), hex('05')]);
  t.throws(() => decodeAmf0(objects), { instanceOf: Amf0Error, message: /deeper than/ });

  let ok: unknown = 1;
  for (let i = 0; i < AMF0_MAX_DEPTH - 1; i++) ok = [ok];
  t.deepEqual(decodeAmf0(encodeAmf0([ok])), [ok], 'the limit itself is usable');
});

test('encoder rejects what AMF0 cannot carry, with Amf0Error', (t) => {
  t.throws(() => encodeAmf0([() => 1]), { instanceOf: Amf0Error, message: /function/ });
  t.throws(() => encodeAmf0([1n]), { instanceOf: Amf0Error, message: /bigint/ });
  t.throws(() => encodeAmf0([new Map()]), { instanceOf: Amf0Error, message: /Map/ });
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  t.throws(() => encodeAmf0([cyclic]), { instanceOf: Amf0Error, message: /deeper than/ });
  t.throws(() => encodeAmf0([{ ['k'.repeat(70000)]: 1 }]), { instanceOf: Amf0Error, message: /property name/ });
});

test('garbage only ever throws Amf0Error (an FlvError)', (t) => {
  let seed = 12345;
  const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
  for (let i = 0; i < 2000; i++) {
    const buf = Buffer.from(Array.from({ length: 1 + (i % 40) }, rand));
    try {
      decodeAmf0(buf);
    } catch (e) {
      if (!(e instanceof Amf0Error) || !(e instanceof FlvError)) t.fail(`unexpected ${String(e)} for ${buf.toString('hex')}`);
    }
  }
  t.pass();
});
