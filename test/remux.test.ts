import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { probeFlvStream } from '../core/flv/probe.js';
import { ffprobe } from './helpers/ffprobe.js';
import { loadApp, tempDir } from './helpers/app.js';
import { demuxFile, FIXTURES } from './helpers/packets.js';

// Headless remux of every fixture: file → flv-demux → timestamps → file, with no server.
for (const [name, input] of Object.entries(FIXTURES)) {
  test(`remux ${name}: same streams for ffprobe, same payloads, monotonic timestamps`, async (t) => {
    const dir = tempDir();
    const output = join(dir, 'out.flv');
    const app = await loadApp(
      `pipelines:
  remux:
    source: { type: file, path: ${input} }
    stages: [flv-demux, timestamps]
    sinks: [{ type: file, path: ${output} }]
`,
      { dir },
    );
    await app.start();
    await app.runtime.done;
    t.true(await app.stop());
    t.is(app.runtime.summary.failed, 0);

    const [before, after] = await Promise.all([ffprobe(input), ffprobe(output)]);
    const describe = (s: (typeof before.streams)[number]) => [s.codec_type, s.codec_name, s.width, s.height, s.sample_rate, s.channels].join(' ');
    t.deepEqual(after.streams.map(describe), before.streams.map(describe));

    // Our probe agrees with ffprobe on the output.
    const ours = await probeFlvStream(createReadStream(output));
    t.is(ours.error, null);
    const ffprobeName: Record<string, string> = { avc: 'h264', aac: 'aac', mp3: 'mp3' };
    const describeOurs = (track: (typeof ours.tracks)[number]) =>
      [track.type, ffprobeName[track.codec] ?? track.codec, track.width, track.height, track.sampleRate === undefined ? undefined : String(track.sampleRate), track.channels].join(' ');
    t.deepEqual(ours.tracks.map(describeOurs).sort(), after.streams.map(describe).sort());

    const original = demuxFile(input);
    const remuxed = demuxFile(output);
    t.is(remuxed.length, original.length);
    t.true(remuxed.every((p, i) => p.kind === original[i]!.kind && p.body.equals(original[i]!.body)), 'payloads identical');
    for (const kind of ['audio', 'video'] as const) {
      const dts = remuxed.filter((p) => p.kind === kind).map((p) => p.dts);
      t.true(dts.every((d, i) => i === 0 || d >= dts[i - 1]!), `${kind} timestamps monotonic`);
    }
  });
}

test('a file sink whose final flush fails (disk full) ends the stream with the error instead of hanging', async (t) => {
  const app = await loadApp(`pipelines:
  full:
    source: { type: file, path: ${FIXTURES.aacOnly} }
    stages: [flv-demux]
    sinks: [{ type: file, path: /dev/full }]
`);
  await app.start();
  await app.runtime.done;
  await app.stop();
  t.is(app.runtime.summary.failed, 1);
});
