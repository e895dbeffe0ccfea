/**
 * bench:unmask — what unmasking WebSocket publishers' frames costs: `ws` unmasks every client frame
 * in place, with the native `bufferutil` when it is installed (an optional dependency of ours) and a
 * byte-at-a-time JavaScript loop otherwise (node 20 has no built-in). Prints ns per byte for both, in
 * the same run, and what that is per publisher-second at the ingest bench's 2.54 Mb/s.
 *
 *   npm run bench:unmask
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const native = (() => {
  try {
    return (require('bufferutil') as { unmask(buffer: Buffer, mask: Buffer): void }).unmask;
  } catch {
    throw new Error('bufferutil is not installed (an optional dependency: npm install bufferutil)');
  }
})();

/** The fallback `ws` uses without bufferutil, written out here so both run on the same buffers. */
function unmaskInJs(buffer: Buffer, mask: Buffer): void {
  for (let i = 0; i < buffer.length; i++) buffer[i]! ^= mask[i & 3]!;
}

const MASK = Buffer.from([0x12, 0x34, 0x56, 0x78]);
const BYTES = 256 * 1024 * 1024;
const BITRATE = 2.54e6;

function nsPerByte(unmask: (buffer: Buffer, mask: Buffer) => void, size: number): number {
  const buffer = Buffer.alloc(size, 7);
  for (let i = 0; i < 500; i++) unmask(buffer, MASK);
  const rounds = Math.ceil(BYTES / size);
  const started = process.hrtime.bigint();
  for (let i = 0; i < rounds; i++) unmask(buffer, MASK);
  return Number(process.hrtime.bigint() - started) / (rounds * size);
}

console.log('| frame bytes | JavaScript ns/byte | bufferutil ns/byte | ratio | µs per publisher-second at 2.54 Mb/s (JS → bufferutil) |');
console.log('|--:|--:|--:|--:|--:|');
for (const size of [1_400, 10_000, 65_536]) {
  const js = nsPerByte(unmaskInJs, size);
  const bu = nsPerByte(native, size);
  const perSecond = (ns: number) => ((ns * BITRATE) / 8 / 1000).toFixed(0);
  console.log(`| ${size} | ${js.toFixed(3)} | ${bu.toFixed(3)} | ${(bu / js).toFixed(3)}× | ${perSecond(js)} → ${perSecond(bu)} |`);
}
