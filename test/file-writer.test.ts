import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { FlvDemuxer } from '../core/flv/demuxer.js';
import { FlvFileWriter, WriteBacklogError } from '../core/flv/file-writer.js';
import { tempDir } from './helpers/app.js';
import { demuxFile, FIXTURES } from './helpers/packets.js';

const packets = demuxFile(FIXTURES.h264Aac);

test('writes leave the event loop: nothing is on disk when write() and flush() return, all of it once drained, a valid file once closed', async (t) => {
  const path = join(tempDir(), 'out.flv');
  const writer = new FlvFileWriter(path, { batchBytes: 16 * 1024 });
  for (const packet of packets) writer.write(packet);
  writer.flush();
  t.true(statSync(path).size < writer.bytesWritten, `on disk ${statSync(path).size} of ${writer.bytesWritten} when write() returned`);
  t.true(writer.backlog > 0);
  await writer.drained();
  t.is(writer.backlog, 0);
  await writer.close();
  const back = new FlvDemuxer().push(readFileSync(path));
  t.is(back.length, packets.length);
  t.true(back.every((p, i) => p.body.equals(packets[i]!.body) && p.dts === packets[i]!.dts));
});

test('a disk that falls behind past the bound fails the writer with WSFLV_ERR_WRITE_BACKLOG, and the file ends on a whole tag', async (t) => {
  const path = join(tempDir(), 'slow.flv');
  const writer = new FlvFileWriter(path, { batchBytes: 1024, maxBacklogBytes: 64 * 1024 });
  const error = t.throws(() => {
    for (let round = 0; round < 100; round++) for (const packet of packets) writer.write(packet);
  });
  t.true(error instanceof WriteBacklogError);
  t.is((error as WriteBacklogError).code, 'WSFLV_ERR_WRITE_BACKLOG');
  t.throws(() => writer.write(packets[0]!), { code: 'WSFLV_ERR_WRITE_BACKLOG' }, 'and stays failed');
  await t.throwsAsync(writer.close(), { code: 'WSFLV_ERR_WRITE_BACKLOG' });
  const demuxed = new FlvDemuxer().push(readFileSync(path));
  t.true(demuxed.length > 0, 'what was written before stays readable');
});
