/**
 * FLV demux+mux throughput against `ffmpeg -c copy` on the same large file.
 *
 *   npm run bench:flv [-- --runs N] [--file X.flv]
 *
 * The file is generated once into bench/.cache/: a 10 s 1080p30 H.264 (8 Mb/s) + AAC segment, then
 * looped with -c copy to 4 minutes (~245 MB), which takes seconds where encoding 4 minutes of 1080p
 * would take minutes.
 *
 * The headline row is timed in process on bytes already in memory, pushed in 64 KiB chunks (the size
 * file and socket streams hand out) with every packet muxed back into a tag buffer. ffmpeg is timed as
 * a whole process: startup, probing and reading the page-cached file are in its figure, so two extra
 * lines put that in proportion: ours fed from a file stream, and ffmpeg's fixed cost on a tiny file.
 */
import { spawnSync } from 'node:child_process';
import { createReadStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { FlvDemuxer } from '../core/flv/demuxer.js';
import { muxFlvHeader, muxTag, muxTagWithHeadroom } from '../core/flv/muxer.js';
import { TagSlab } from '../core/live/tag-slab.js';

const CACHE = join(dirname(fileURLToPath(import.meta.url)), '.cache');
const DEFAULT_FILE = join(CACHE, 'flv-1080p30-8M-240s.flv');
const CHUNK = 64 * 1024;
/** Stop repeating runs once a side has used this much time; keeps the whole bench well under 3 minutes. */
const BUDGET_MS = 40_000;

const { values } = parseArgs({
  options: { runs: { type: 'string', default: '10' }, file: { type: 'string' } },
});
const runs = Math.max(1, Number(values.runs));
const file = values.file ?? DEFAULT_FILE;

function hasFfmpeg(): boolean {
  return spawnSync('ffmpeg', ['-version'], { stdio: 'ignore' }).status === 0;
}

function ffmpeg(args: string[]): void {
  const r = spawnSync('ffmpeg', ['-v', 'error', '-nostdin', '-y', ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) throw new Error(`ffmpeg ${args.join(' ')} failed (exit ${r.status})`);
}

function generate(target: string): void {
  mkdirSync(CACHE, { recursive: true });
  const segment = join(CACHE, 'segment.tmp.flv');
  const partial = `${target}.tmp`;
  const started = performance.now();
  console.error(`generating ${target} (once) ...`);
  ffmpeg([
    '-f', 'lavfi', '-i', 'testsrc2=s=1920x1080:r=30:d=10', '-f', 'lavfi', '-i', 'sine=f=440:r=48000:d=10',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-b:v', '8M', '-maxrate', '8M', '-bufsize', '4M', '-g', '60',
    '-c:a', 'aac', '-b:a', '128k', '-ac', '2', segment,
  ]);
  // -stream_loop keeps timestamps running across the copies, so the result is one continuous stream.
  ffmpeg(['-stream_loop', '23', '-i', segment, '-c', 'copy', '-f', 'flv', partial]);
  rmSync(segment);
  renameSync(partial, target);
  console.error(`generated in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

interface Timing { bestMs: number; runs: number; tags: number }

/** Best of up to `n` runs of `fn`, bounded by BUDGET_MS. */
function best(n: number, fn: () => number): Timing {
  let bestMs = Infinity;
  let tags = 0;
  let done = 0;
  const started = performance.now();
  while (done < n && (done === 0 || performance.now() - started < BUDGET_MS)) {
    const t0 = performance.now();
    tags = fn();
    bestMs = Math.min(bestMs, performance.now() - t0);
    done++;
  }
  return { bestMs, runs: done, tags };
}

async function bestAsync(n: number, fn: () => Promise<number>): Promise<Timing> {
  let bestMs = Infinity;
  let tags = 0;
  let done = 0;
  const started = performance.now();
  while (done < n && (done === 0 || performance.now() - started < BUDGET_MS)) {
    const t0 = performance.now();
    tags = await fn();
    bestMs = Math.min(bestMs, performance.now() - t0);
    done++;
  }
  return { bestMs, runs: done, tags };
}

/** The same work fed from the file as `wsflv probe` and the file source read it, for a like-for-like with ffmpeg's I/O. */
async function streamDemuxMux(path: string): Promise<number> {
  const demuxer = new FlvDemuxer();
  let tags = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: CHUNK })) {
    for (const packet of demuxer.push(chunk as Buffer)) {
      muxTag(packet);
      tags++;
    }
  }
  demuxer.end();
  return tags;
}

/** Returns the tag count; checks that the output is as long as the input, so nothing is skipped. */
function demuxMux(bytes: Buffer, mux: boolean): number {
  const demuxer = new FlvDemuxer();
  let tags = 0;
  let out = 0;
  for (let i = 0; i < bytes.length; i += CHUNK) {
    for (const packet of demuxer.push(bytes.subarray(i, i + CHUNK))) {
      tags++;
      if (mux) out += muxTag(packet).length;
    }
  }
  demuxer.end();
  if (mux) {
    const h = demuxer.header!;
    out += muxFlvHeader({ audio: h.hasAudio, video: h.hasVideo }).length;
    if (out !== bytes.length) throw new Error(`muxed ${out} bytes from ${bytes.length}: the round trip is not byte-for-byte`);
  }
  return tags;
}

/**
 * Demux + mux as a live channel does it: the last KEPT_TAGS tags stay referenced (the GOP cache and
 * players' queues keep seconds of them), so they live long enough to reach V8's old generation.
 * `allocate` is where each tag's buffer comes from: its own (`Buffer.allocUnsafe`) or a TagSlab's.
 */
const KEPT_TAGS = 256;
function demuxMuxKept(bytes: Buffer, allocate: (size: number) => Buffer): number {
  const demuxer = new FlvDemuxer();
  const kept: Buffer[] = new Array<Buffer>(KEPT_TAGS);
  let tags = 0;
  for (let i = 0; i < bytes.length; i += CHUNK) {
    for (const packet of demuxer.push(bytes.subarray(i, i + CHUNK))) kept[tags++ % KEPT_TAGS] = muxTagWithHeadroom(packet, 10, allocate);
  }
  demuxer.end();
  return tags;
}

if (!existsSync(file)) {
  if (file !== DEFAULT_FILE) throw new Error(`${file} does not exist`);
  if (!hasFfmpeg()) throw new Error('ffmpeg is needed to generate the bench file');
  generate(file);
}

const bytes = readFileSync(file);
const size = bytes.length;
// One untimed pass so the JIT has compiled the hot paths before the best-of-N starts.
const tags = demuxMux(bytes, true);

const rows: { name: string; t: Timing }[] = [];
rows.push({ name: 'wsflv demux + mux', t: best(runs, () => demuxMux(bytes, true)) });
rows.push({ name: 'wsflv demux only', t: best(runs, () => demuxMux(bytes, false)) });
rows.push({ name: `wsflv demux + mux, last ${KEPT_TAGS} tags kept, own buffers`, t: best(runs, () => demuxMuxKept(bytes, Buffer.allocUnsafe)) });
rows.push({ name: `wsflv demux + mux, last ${KEPT_TAGS} tags kept, TagSlab`, t: best(runs, () => demuxMuxKept(bytes, new TagSlab().allocate)) });
rows.push({ name: 'wsflv file stream + demux + mux', t: await bestAsync(runs, () => streamDemuxMux(file)) });
const ffmpegArgs = ['-i', file, '-c', 'copy', '-f', 'flv', '/dev/null'];
let ffmpegRow: Timing | undefined;
if (hasFfmpeg()) {
  ffmpegRow = best(runs, () => { ffmpeg(ffmpegArgs); return tags; });
  rows.push({ name: 'ffmpeg -c copy -f flv', t: ffmpegRow });
}
// ffmpeg's fixed cost (process start, probing), from the same command on a 0.1 MB fixture.
const tiny = fileURLToPath(new URL('../test/fixtures/h264-aac-642x362-2s.flv', import.meta.url));
const ffmpegFixed = ffmpegRow && existsSync(tiny) ? best(runs, () => { ffmpeg(['-i', tiny, '-c', 'copy', '-f', 'flv', '/dev/null']); return 0; }) : undefined;

const mb = size / 1e6;
console.log(`FLV demux+mux: ${file}`);
console.log(`${mb.toFixed(1)} MB, ${tags} tags, ${CHUNK / 1024} KiB chunks, best of ${runs} runs (node ${process.version})`);
console.log('');
const header = ['', 'best', 'MB/s', 'tags/s', 'vs ffmpeg'];
const table = rows.map(({ name, t }) => [
  name,
  `${(t.bestMs / 1000).toFixed(3)} s`,
  (mb / (t.bestMs / 1000)).toFixed(0),
  Math.round(t.tags / (t.bestMs / 1000)).toLocaleString('en-US'),
  ffmpegRow ? `${(ffmpegRow.bestMs / t.bestMs).toFixed(2)}x` : 'n/a',
]);
const widths = header.map((_, i) => Math.max(header[i]!.length, ...table.map((r) => r[i]!.length)));
for (const row of [header, ...table]) {
  console.log(row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('   '));
}
if (ffmpegRow) {
  console.log(`\n"vs ffmpeg": throughput relative to \`ffmpeg ${ffmpegArgs.join(' ')}\` (process wall time); above 1 is faster.`);
}
if (ffmpegFixed) {
  console.log(`ffmpeg's fixed cost (same command on a 0.1 MB file): ${(ffmpegFixed.bestMs / 1000).toFixed(3)} s of its ${(ffmpegRow!.bestMs / 1000).toFixed(3)} s.`);
}
