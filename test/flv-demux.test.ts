import { readFileSync } from 'node:fs';
import test from 'ava';
import { FlvError } from '../core/errors.js';
import { demuxFlv } from '../stages/flv-demux.js';
import { demuxFile, FIXTURES, run } from './helpers/packets.js';

function chunks(buffer: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < buffer.length; i += size) out.push(buffer.subarray(i, i + size));
  return out;
}

test('the operator emits the same packets as the demuxer, whatever the chunking', async (t) => {
  const bytes = readFileSync(FIXTURES.h264Aac);
  const expected = demuxFile(FIXTURES.h264Aac);
  for (const size of [1, 7, 4096, bytes.length]) {
    const out = await run(chunks(bytes, size), demuxFlv());
    t.is(out.length, expected.length);
    t.true(out.every((p, i) => p.dts === expected[i]!.dts && p.body.equals(expected[i]!.body)), `chunk size ${size}`);
  }
});

test('malformed input errors with the typed error', async (t) => {
  const error = await t.throwsAsync(run([Buffer.from('NOT AN FLV FILE')], demuxFlv()));
  t.true(error instanceof FlvError);
  t.is((error as FlvError).code, 'WSFLV_ERR_FLV_SIGNATURE');
});

test('bytes ending inside a tag error on completion', async (t) => {
  const bytes = readFileSync(FIXTURES.aacOnly).subarray(0, 500);
  const error = await t.throwsAsync(run([bytes], demuxFlv()));
  t.is((error as FlvError).code, 'WSFLV_ERR_FLV_TRUNCATED');
});

test('the size limit applies', async (t) => {
  const error = await t.throwsAsync(run([readFileSync(FIXTURES.h264Aac)], demuxFlv({ maxTagSize: 1000 })));
  t.is((error as FlvError).code, 'WSFLV_ERR_FLV_TAG_TOO_LARGE');
});
