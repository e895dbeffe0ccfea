import test from 'ava';
import fc from 'fast-check';
import { BitReader, unescapeRbsp } from '../core/codecs/bit-reader.js';
import { CodecConfigError } from '../core/errors.js';
import { BitWriter, escapeRbsp } from './helpers/codec-records.js';

test('u() reads MSB first across byte boundaries', (t) => {
  const r = new BitReader(Buffer.from([0b1010_1100, 0b0101_0011]));
  t.is(r.u(1), 1);
  t.is(r.u(3), 0b010);
  t.is(r.u(6), 0b1100_01);
  t.is(r.bitPosition, 10);
  t.is(r.bitsLeft, 6);
  t.is(r.u(6), 0b01_0011);
  t.is(r.bitsLeft, 0);
});

test('u(32) of all ones is 2^32 - 1, not negative', (t) => {
  const r = new BitReader(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff]));
  r.skip(3);
  t.is(r.u(32), 0xffffffff);
  t.is(r.u(0), 0);
});

test('Exp-Golomb codes from the H.264 table (9.1)', (t) => {
  // 1 | 010 | 011 | 00100 | 00101 | 0001000 → 0, 1, 2, 3, 4, 7
  const w = new BitWriter().u(1, 1).u(3, 0b010).u(3, 0b011).u(5, 0b00100).u(5, 0b00101).u(7, 0b0001000);
  const r = new BitReader(w.bytes());
  t.deepEqual([r.ue(), r.ue(), r.ue(), r.ue(), r.ue(), r.ue()], [0, 1, 2, 3, 4, 7]);
  // se(v): codeNum k maps to (-1)^(k+1) * ceil(k / 2)
  const s = new BitReader(new BitWriter().ue(0).ue(1).ue(2).ue(3).ue(4).bytes());
  t.deepEqual([s.se(), s.se(), s.se(), s.se(), s.se()], [0, 1, -1, 2, -2]);
});

test('ue/se/u round trip through a writer (property)', (t) => {
  const op = fc.oneof(
    fc.record({ k: fc.constant('ue' as const), v: fc.integer({ min: 0, max: 2 ** 32 - 2 }) }),
    fc.record({ k: fc.constant('se' as const), v: fc.integer({ min: -(2 ** 31) + 1, max: 2 ** 31 - 1 }) }),
    fc.integer({ min: 0, max: 32 }).chain((n) =>
      fc.record({ k: fc.constant('u' as const), n: fc.constant(n), v: fc.integer({ min: 0, max: 2 ** n - 1 }) })),
  );
  fc.assert(
    fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
      const w = new BitWriter();
      for (const o of ops) {
        if (o.k === 'ue') w.ue(o.v);
        else if (o.k === 'se') w.se(o.v);
        else w.u(o.n, o.v);
      }
      const bits = w.length;
      const r = new BitReader(w.bytes());
      for (const o of ops) {
        const got = o.k === 'ue' ? r.ue() : o.k === 'se' ? r.se() : r.u(o.n);
        if (got !== o.v) throw new Error(`${o.k} wrote ${o.v}, read ${got}`);
      }
      return r.bitPosition === bits;
    }),
  );
  t.pass();
});

test('reading past the end throws CodecConfigError naming the structure', (t) => {
  const r = new BitReader(Buffer.from([0xab]), 'test header');
  r.u(5);
  const err = t.throws(() => r.u(4), { instanceOf: CodecConfigError });
  t.is(err?.code, 'WSFLV_ERR_CODEC_CONFIG');
  t.regex(err?.message ?? '', /^test header: truncated/);
  t.throws(() => new BitReader(Buffer.alloc(0)).flag(), { instanceOf: CodecConfigError });
  t.throws(() => new BitReader(Buffer.alloc(2)).ue(), { instanceOf: CodecConfigError });
  t.throws(() => new BitReader(Buffer.from([0x01])).skip(9), { instanceOf: CodecConfigError });
  // A prefix of 00 01 leaves 15 zeros then a 1 but no room for the 15 value bits.
  t.throws(() => new BitReader(Buffer.from([0x00, 0x01])).ue(), { instanceOf: CodecConfigError });
});

test('an Exp-Golomb prefix of 32 zeros is rejected rather than overflowing', (t) => {
  const r = new BitReader(Buffer.from([0, 0, 0, 0, 0x80, 0, 0, 0, 0]));
  t.throws(() => r.ue(), { instanceOf: CodecConfigError, message: /longer than 32 bits/ });
  // 31 zeros is the longest allowed: 2^32 - 2.
  t.is(new BitReader(new BitWriter().ue(2 ** 32 - 2).bytes()).ue(), 2 ** 32 - 2);
});

test('u() refuses widths it cannot represent', (t) => {
  const r = new BitReader(Buffer.alloc(8));
  t.throws(() => r.u(33), { instanceOf: CodecConfigError });
  t.throws(() => r.u(-1), { instanceOf: CodecConfigError });
});

test('byteAlign skips to the next byte only when unaligned', (t) => {
  const r = new BitReader(Buffer.from([0xff, 0x5a]));
  r.byteAlign();
  t.is(r.bitPosition, 0);
  r.u(1);
  r.byteAlign();
  t.is(r.u(8), 0x5a);
});

test('random bytes and reads never raise anything but CodecConfigError', (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 16 }), fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 64 }), (bytes, ops) => {
      const r = new BitReader(bytes);
      try {
        for (const o of ops) [() => r.u(7), () => r.ue(), () => r.se(), () => r.flag()][o]!();
      } catch (err) {
        if (!(err instanceof CodecConfigError)) throw err;
      }
    }),
  );
  t.pass();
});

test('unescapeRbsp removes 03 after two zero bytes and nothing else', (t) => {
  const cases: [number[], number[]][] = [
    [[0x00, 0x00, 0x03, 0x01], [0x00, 0x00, 0x01]],
    [[0x00, 0x00, 0x03, 0x00, 0x00, 0x03], [0x00, 0x00, 0x00, 0x00]],
    [[0x00, 0x00, 0x03, 0x03], [0x00, 0x00, 0x03]],
    [[0x00, 0x03, 0x00, 0x03], [0x00, 0x03, 0x00, 0x03]],
    [[0x00, 0x00, 0x00, 0x03, 0x00], [0x00, 0x00, 0x00, 0x00]],
    [[0x67, 0x00, 0x00, 0x03], [0x67, 0x00, 0x00]],
  ];
  for (const [input, expected] of cases) t.deepEqual([...unescapeRbsp(Uint8Array.from(input))], expected, Buffer.from(input).toString('hex'));
  const clean = Buffer.from([1, 2, 0, 0, 4]);
  t.is(unescapeRbsp(clean), clean, 'no copy without escapes');
});

test('unescapeRbsp undoes an encoder\'s escaping (property)', (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }).map((a) => a.map((b) => (b < 128 ? b & 3 : b))), (raw) => {
      return Buffer.from(unescapeRbsp(escapeRbsp(raw))).equals(Buffer.from(raw));
    }),
  );
  t.pass();
});
