import test from 'ava';
import { parseOpusHead } from '../core/codecs/opus.js';
import { CodecConfigError } from '../core/errors.js';
import { assertOnlyCodecConfigErrors } from './helpers/codec-fuzz.js';
import { oggFirstPacket, probe, probedFiles } from './helpers/codec-records.js';

const files = probedFiles('opus-');

test('fixture list is not empty', (t) => {
  t.true(files.length >= 3);
});

for (const file of files) {
  test(`OpusHead from ${file} (libopus) matches ffprobe`, (t) => {
    const h = parseOpusHead(oggFirstPacket(file));
    const p = probe(file, 'audio');
    t.deepEqual({ sampleRate: h.sampleRate, channels: h.channels }, { sampleRate: Number(p.sample_rate), channels: p.channels });
    t.is(h.version, 1);
    t.is(h.codecString, 'opus');
    t.true(h.preSkip > 0);
  });
}

test('5.1 uses mapping family 1 with stream and coupling counts', (t) => {
  const h = parseOpusHead(oggFirstPacket('opus-5.1.ogg'));
  t.like(h, { mappingFamily: 1, channels: 6, streamCount: 4, coupledCount: 2 });
  t.deepEqual(h.channelMapping, [0, 4, 1, 2, 3, 5]);
  const mono = parseOpusHead(oggFirstPacket('opus-mono.ogg'));
  t.is(mono.mappingFamily, 0);
  t.is(mono.streamCount, undefined);
});

function head(fields: { version?: number; channels?: number; preSkip?: number; rate?: number; gain?: number; family?: number }, tail: number[] = []): Buffer {
  const b = Buffer.alloc(19);
  b.write('OpusHead', 0, 'latin1');
  b[8] = fields.version ?? 1;
  b[9] = fields.channels ?? 2;
  b.writeUInt16LE(fields.preSkip ?? 3840, 10);
  b.writeUInt32LE(fields.rate ?? 44100, 12);
  b.writeInt16LE(fields.gain ?? 0, 16);
  b[18] = fields.family ?? 0;
  return Buffer.concat([b, Buffer.from(tail)]);
}

test('little-endian fields, signed Q7.8 gain, the input rate is informational', (t) => {
  const h = parseOpusHead(head({ preSkip: 0x1234, rate: 16000, gain: -384 }));
  t.like(h, { preSkip: 0x1234, inputSampleRate: 16000, outputGain: -384, outputGainDb: -1.5, sampleRate: 48000 });
  // Minor versions are compatible; trailing bytes (allowed by RFC 7845) are ignored.
  t.is(parseOpusHead(head({ version: 15 }, [1, 2, 3])).version, 15);
  const ambisonics = parseOpusHead(head({ channels: 4, family: 2 }, [2, 2, 0, 1, 2, 255]));
  t.deepEqual(ambisonics.channelMapping, [0, 1, 2, 255]);
});

test('malformed headers throw CodecConfigError naming the record and the problem', (t) => {
  const bad = (b: Buffer, re: RegExp) => t.throws(() => parseOpusHead(b), { instanceOf: CodecConfigError, message: re });
  bad(head({}).subarray(0, 18), /^OpusHead: 18 bytes/);
  const magic = head({});
  magic.write('OpusTags', 0, 'latin1');
  bad(magic, /magic signature/);
  bad(head({ version: 16 }), /major version/);
  bad(head({ channels: 0 }), /channel count 0/);
  bad(head({ channels: 3 }), /mapping family 0 allows 1 or 2 channels/);
  bad(head({ channels: 6, family: 1 }, [4, 2, 0, 4, 1]), /needs a 27-byte header/);
  bad(head({ channels: 2, family: 1 }, [0, 0, 0, 0]), /stream count 0/);
  bad(head({ channels: 2, family: 1 }, [1, 2, 0, 1]), /coupled stream count 2 exceeds/);
  bad(head({ channels: 2, family: 1 }, [1, 0, 0, 1]), /mapping entry 1 exceeds the 1 decoded/);
});

test('garbage and truncated headers throw only CodecConfigError', (t) => {
  assertOnlyCodecConfigErrors(t, parseOpusHead, files.map(oggFirstPacket));
});
