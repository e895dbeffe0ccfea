import test from 'ava';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { FlvError } from '../core/errors.js';
import { FlvDemuxer } from '../core/flv/demuxer.js';
import type { MediaPacket } from '../core/media/packet.js';

const FIXTURES = ['h264-aac-360p30-10s.flv', 'h264-only-240p25-10s.flv', 'aac-only-10s.flv', 'h264-mp3-240p25-5s.flv'];
const load = (name: string) => readFileSync(fileURLToPath(new URL(`fixtures/${name}`, import.meta.url)));

/** Everything about a packet that must not depend on chunking, bodies included. */
function summary(p: MediaPacket): string {
  return JSON.stringify([p.kind, p.dts, p.cts, p.pts, p.keyframe, p.config, p.endOfSequence, p.codec, p.dataOffset, p.offset, p.trackId, p.body.toString('base64')]);
}

/** Whole-array deepEqual is slow on hundreds of packets; compare strings, report the first difference. */
function sameSummaries(t: { is: (a: unknown, b: unknown, m?: string) => void }, got: string[], want: string[]): void {
  t.is(got.length, want.length, 'packet count');
  const i = got.findIndex((g, k) => g !== want[k]);
  if (i >= 0) t.is(got[i], want[i], `packet ${i}`);
}

function splitAt(bytes: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % bytes.length))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let prev = 0;
  for (const p of points) {
    chunks.push(bytes.subarray(prev, p));
    prev = p;
  }
  chunks.push(bytes.subarray(prev));
  return chunks;
}

for (const name of FIXTURES) {
  test(`chunking does not change the output: ${name}`, (t) => {
    const bytes = load(name);
    const reference = new FlvDemuxer().push(bytes).map(summary);
    fc.assert(
      fc.property(fc.array(fc.nat(), { maxLength: 300 }), (cuts) => {
        const d = new FlvDemuxer();
        const got: MediaPacket[] = [];
        for (const chunk of splitAt(bytes, cuts)) got.push(...d.push(chunk));
        d.end();
        sameSummaries(t, got.map(summary), reference);
      }),
      { numRuns: 8 },
    );
  });
}

test('tiny fixed-size chunks (1..64 bytes) over a fixture prefix', (t) => {
  const bytes = load('h264-aac-360p30-10s.flv').subarray(0, 40_000);
  const reference = new FlvDemuxer().push(bytes).map(summary);
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 64 }), (size) => {
      const d = new FlvDemuxer();
      const got: MediaPacket[] = [];
      for (let i = 0; i < bytes.length; i += size) got.push(...d.push(bytes.subarray(i, i + size)));
      sameSummaries(t, got.map(summary), reference);
      t.true(d.bufferedBytes > 0, 'the prefix ends mid-tag');
    }),
    { numRuns: 12 },
  );
});

// ---------------------------------------------------------------------------------------------
// Hostile input: only FlvError, bounded buffering, bounded time

const MAX_TAG = 1 << 18;

/** Feed `bytes` in the given chunks; returns the non-FlvError failure, if any. */
function survive(bytes: Buffer, cuts: number[], options: ConstructorParameters<typeof FlvDemuxer>[0]): string | undefined {
  const limit = (options?.maxTagSize ?? 0xffffff) + 32;
  const d = new FlvDemuxer(options);
  const started = performance.now();
  try {
    for (const chunk of splitAt(bytes, cuts)) {
      d.push(chunk);
      if (d.bufferedBytes > limit) return `bufferedBytes ${d.bufferedBytes} > ${limit}`;
    }
    d.end();
  } catch (e) {
    if (!(e instanceof FlvError)) return `threw ${e instanceof Error ? `${e.name}: ${e.message}\n${e.stack}` : String(e)}`;
  }
  const elapsed = performance.now() - started;
  if (elapsed > 1000) return `took ${elapsed.toFixed(0)} ms`;
  return undefined;
}

type Mutation =
  | { kind: 'flip'; at: number; mask: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'delete'; at: number; length: number }
  | { kind: 'truncate'; at: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), mask: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 32 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
);

function mutate(input: Buffer, mutations: Mutation[]): Buffer {
  let b = Buffer.from(input);
  for (const m of mutations) {
    if (b.length === 0) break;
    const at = m.at % b.length;
    switch (m.kind) {
      case 'flip':
        b[at] = b[at]! ^ m.mask;
        break;
      case 'insert':
        b = Buffer.concat([b.subarray(0, at), m.bytes, b.subarray(at)]);
        break;
      case 'delete':
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + m.length)]);
        break;
      case 'truncate':
        b = b.subarray(0, at);
        break;
    }
  }
  return b;
}

// Prefixes keep each case fast while still covering the header, metadata and many media tags;
// they end on a tag boundary so an unmutated prefix is a complete, valid stream.
const PREFIXES = FIXTURES.map((name) => {
  const bytes = load(name);
  const next = new FlvDemuxer().push(bytes).find((p) => p.offset! > 24_000)!;
  return bytes.subarray(0, next.offset);
});

test('mutated fixtures only ever throw FlvError, within bounds', (t) => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: PREFIXES.length - 1 }),
      fc.array(mutation, { minLength: 1, maxLength: 6 }),
      fc.array(fc.nat(), { maxLength: 20 }),
      fc.constantFrom<'strict' | 'warn'>('strict', 'warn'),
      fc.boolean(),
      (which, mutations, cuts, previousTagSize, limited) => {
        const bytes = mutate(PREFIXES[which]!, mutations);
        const problem = survive(bytes, cuts, { previousTagSize, onWarning: () => {}, ...(limited ? { maxTagSize: MAX_TAG } : {}) });
        if (problem !== undefined) t.fail(problem);
        return problem === undefined;
      },
    ),
    { numRuns: 300 },
  );
  t.pass();
});

const header = Buffer.from('464c5601050000000900000000', 'hex');

test('random bytes (after a valid header, or as bare tags) only ever throw FlvError', (t) => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 2048 }),
      fc.array(fc.nat(), { maxLength: 10 }),
      fc.constantFrom('header', 'bare', 'raw'),
      (random, cuts, mode) => {
        const body = Buffer.from(random);
        const bytes = mode === 'header' ? Buffer.concat([header, body]) : body;
        const problem = survive(bytes, cuts, { maxTagSize: MAX_TAG, expectHeader: mode !== 'bare' });
        if (problem !== undefined) t.fail(problem);
        return problem === undefined;
      },
    ),
    { numRuns: 400 },
  );
  t.pass();
});

test('random tag bodies behind well-formed tag headers only ever throw FlvError', (t) => {
  // Random headers rarely get past the tag-type check; these exercise the body parsers and AMF0.
  const tagArb = fc.record({
    type: fc.constantFrom(8, 9, 18),
    timestamp: fc.nat(),
    body: fc.uint8Array({ maxLength: 64 }),
  });
  fc.assert(
    fc.property(fc.array(tagArb, { minLength: 1, maxLength: 8 }), (tags) => {
      const parts: Buffer[] = [header];
      for (const { type, timestamp, body } of tags) {
        const h = Buffer.alloc(11);
        h[0] = type;
        h.writeUIntBE(body.length, 1, 3);
        h.writeUIntBE(timestamp & 0xffffff, 4, 3);
        h[7] = (timestamp >>> 24) & 0xff;
        const pts = Buffer.alloc(4);
        pts.writeUInt32BE(11 + body.length);
        parts.push(h, Buffer.from(body), pts);
      }
      const problem = survive(Buffer.concat(parts), [], {});
      if (problem !== undefined) t.fail(problem);
      return problem === undefined;
    }),
    { numRuns: 400 },
  );
  t.pass();
});
