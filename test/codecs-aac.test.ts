import test from 'ava';
import { parseAudioSpecificConfig } from '../core/codecs/aac.js';
import { CodecConfigError } from '../core/errors.js';
import { assertOnlyCodecConfigErrors } from './helpers/codec-fuzz.js';
import { BitWriter, flvConfigRecords, mp4Record, probe, probedFiles } from './helpers/codec-records.js';

const m4aFiles = probedFiles('aac-').filter((f) => f.endsWith('.m4a'));
const flvFiles = ['aac-only-10s.flv', 'h264-aac-360p30-10s.flv'];

function expectMatchesProbe(t: import('ava').ExecutionContext, asc: Buffer, file: string) {
  const c = parseAudioSpecificConfig(asc);
  const p = probe(file, 'audio');
  t.deepEqual(
    { profile: c.profile, sampleRate: c.sampleRate, channels: c.channels },
    { profile: p.profile, sampleRate: Number(p.sample_rate), channels: p.channels },
    file,
  );
  return c;
}

test('fixture list is not empty', (t) => {
  t.true(m4aFiles.length >= 4);
});

for (const file of m4aFiles) {
  test(`AudioSpecificConfig from ${file} (ffmpeg aac) matches ffprobe`, (t) => {
    const c = expectMatchesProbe(t, mp4Record(file, 'esds'), file);
    t.is(c.codecString, `mp4a.40.${c.audioObjectType}`);
    t.false(c.sbr);
  });
}

for (const file of flvFiles) {
  test(`AudioSpecificConfig from the first AAC sequence header of ${file} matches ffprobe`, (t) => {
    const { asc } = flvConfigRecords(file);
    t.truthy(asc);
    const c = expectMatchesProbe(t, asc!, file);
    t.is(c.codecString, 'mp4a.40.2');
  });
}

test('the common HE-AAC config 2B 92 08 00: explicit SBR over LC, 22.05 kHz core, 44.1 kHz out', (t) => {
  const c = parseAudioSpecificConfig(Buffer.from('2b920800', 'hex'));
  t.like(c, {
    audioObjectType: 5, coreObjectType: 2, samplingFrequency: 22050, extensionSamplingFrequency: 44100,
    channelConfiguration: 2, sbr: true, ps: false, profile: 'HE-AAC', sampleRate: 44100, channels: 2, codecString: 'mp4a.40.5',
  });
});

test('explicit PS signalling: mono core, stereo out', (t) => {
  const asc = new BitWriter().u(5, 29).u(4, 6).u(4, 1).u(4, 3).u(5, 2).u(3, 0).bytes();
  t.like(parseAudioSpecificConfig(asc), {
    audioObjectType: 29, coreObjectType: 2, ps: true, sbr: true, profile: 'HE-AACv2', sampleRate: 48000, channels: 2, codecString: 'mp4a.40.29',
  });
});

test('backward-compatible SBR and PS signalling after the GASpecificConfig', (t) => {
  const sbrOnly = new BitWriter().u(5, 2).u(4, 6).u(4, 2).u(3, 0).u(11, 0x2b7).u(5, 5).flag(true).u(4, 3).bytes();
  t.like(parseAudioSpecificConfig(sbrOnly), { sbr: true, ps: false, profile: 'HE-AAC', sampleRate: 48000, codecString: 'mp4a.40.2' });
  const withPs = new BitWriter().u(5, 2).u(4, 6).u(4, 1).u(3, 0).u(11, 0x2b7).u(5, 5).flag(true).u(4, 3).u(11, 0x548).flag(true).bytes();
  t.like(parseAudioSpecificConfig(withPs), { sbr: true, ps: true, profile: 'HE-AACv2', sampleRate: 48000, channels: 2 });
  const sbrOff = new BitWriter().u(5, 2).u(4, 6).u(4, 2).u(3, 0).u(11, 0x2b7).u(5, 5).flag(false).bytes();
  t.like(parseAudioSpecificConfig(sbrOff), { sbr: false, profile: 'LC', sampleRate: 24000 });
});

test('escaped object type, explicit frequency, and channel layouts', (t) => {
  const usac = new BitWriter().u(5, 31).u(6, 10).u(4, 4).u(4, 2).bytes();
  t.like(parseAudioSpecificConfig(usac), { audioObjectType: 42, profile: 'xHE-AAC', codecString: 'mp4a.40.42', sampleRate: 44100 });
  const odd = new BitWriter().u(5, 2).u(4, 15).u(24, 44056).u(4, 7).u(3, 0).bytes();
  t.like(parseAudioSpecificConfig(odd), { samplingFrequencyIndex: 15, sampleRate: 44056, channels: 8 });
  const pce = new BitWriter().u(5, 2).u(4, 3).u(4, 0).u(3, 0).bytes();
  t.like(parseAudioSpecificConfig(pce), { channelConfiguration: 0, channels: 0 });
  const ld = new BitWriter().u(5, 23).u(4, 3).u(4, 1).u(3, 0).bytes();
  t.like(parseAudioSpecificConfig(ld), { profile: 'LD', channels: 1 });
});

test('malformed configs throw CodecConfigError naming the record and the problem', (t) => {
  const bad = (b: Buffer, re: RegExp) => t.throws(() => parseAudioSpecificConfig(b), { instanceOf: CodecConfigError, message: re });
  bad(Buffer.from([0x12]), /^AudioSpecificConfig: 1 bytes/);
  bad(new BitWriter().u(5, 0).u(4, 3).u(4, 2).u(3, 0).bytes(), /audioObjectType 0/);
  bad(new BitWriter().u(5, 2).u(4, 13).u(4, 2).u(3, 0).bytes(), /samplingFrequencyIndex 13 is reserved/);
  bad(new BitWriter().u(5, 2).u(4, 15).u(24, 0).u(4, 2).bytes(), /0 Hz/);
  bad(new BitWriter().u(5, 2).u(4, 15).u(7, 0).bytes(), /^AudioSpecificConfig: truncated/);
  bad(new BitWriter().u(5, 2).u(4, 3).u(4, 15).u(3, 0).bytes(), /channelConfiguration 15 is reserved/);
});

test('garbage and truncated configs throw only CodecConfigError', (t) => {
  const seeds = [...m4aFiles.map((f) => mp4Record(f, 'esds')), Buffer.from('2b920800', 'hex'), Buffer.from('eb098800', 'hex')];
  assertOnlyCodecConfigErrors(t, parseAudioSpecificConfig, seeds);
});
