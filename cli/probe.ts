import { createReadStream } from 'node:fs';
import { probeFlvStream, type GopStats, type ProbeResult, type ProbeTrack } from '../core/flv/probe.js';
import { parseCommandArgs, UsageError, type Command } from './command.js';
import { formatBytes } from './progress.js';

/** Anomalies listed with their details in the text report; the rest are counted. */
const SHOWN_ANOMALIES = 10;

export const probeCommand: Command = {
  name: 'probe',
  summary: 'Analyse an FLV file: tracks, duration, tags, keyframes and GOPs, bitrates, anomalies, metadata',
  help: `Usage: wsflv probe FILE [--json]

Reads FILE as a stream (never whole into memory) and reports, like ffprobe for FLV: the header flags;
each track with its codec, RFC 6381 codecs string, profile and level, size or sample rate and
channels, frame rate and average bitrate; the duration; tags per type; keyframes and GOP lengths
(min/avg/max); anomalies (timestamp regressions, gaps over 1 s, PreviousTagSize mismatches, header
flags that disagree with the tracks, onMetaData that disagrees with the stream); and onMetaData.

A damaged file is reported up to the damage, then the error with its byte offset on stderr.
Exit code: 0 when the whole file was read, 1 when it is damaged or unreadable, 2 on bad usage.

Options:
      --json   print one JSON object: header, tracks[] (type, codec, width, height, sampleRate,
               channels, ...), tags, durationMs, keyframes, gop, metadata, anomalies, error
  -h, --help   show this help

Examples:
  wsflv probe recording.flv
  wsflv probe recording.flv --json | jq '.tracks[] | {codec, width, height}'`,
  async run(argv) {
    const { values, positionals } = parseCommandArgs(argv, { json: { type: 'boolean' } });
    if (positionals.length !== 1) throw new UsageError('give one FLV file');
    const file = positionals[0]!;

    let result: ProbeResult;
    try {
      result = await probeFlvStream(createReadStream(file, { highWaterMark: 64 * 1024 }));
    } catch (error) {
      const e = error as NodeJS.ErrnoException;
      if (typeof e.code === 'string' && e.syscall !== undefined) {
        console.error(`wsflv probe: ${file}: ${e.message}`);
        return 1;
      }
      throw error;
    }

    if (values.json) console.log(JSON.stringify(result, null, 2));
    else console.log(formatReport(file, result));
    if (result.error) {
      console.error(`wsflv probe: ${file}: ${result.error.message} [${result.error.code}]`);
      return 1;
    }
    return 0;
  },
};

export function formatReport(file: string, r: ProbeResult): string {
  const lines: string[] = [];
  const field = (name: string, value: string) => lines.push(`${`${name}:`.padEnd(11)}${value}`);

  field('File', `${file} (${formatBytes(r.bytes)} read)`);
  if (r.header) {
    const flags = [r.header.hasAudio && 'audio', r.header.hasVideo && 'video'].filter(Boolean).join(' + ') || 'none';
    field('Header', `FLV version ${r.header.version}, flags: ${flags}, data offset ${r.header.dataOffset}`);
  } else {
    field('Header', 'unreadable');
  }
  field('Duration', `${formatDuration(r.durationMs)} (${r.durationMs} ms)`);
  field('Bitrate', formatBitrate(r.bitrate));

  lines.push('', 'Tracks:');
  if (r.tracks.length === 0) lines.push('  none');
  else lines.push(...table(r.tracks.map(trackRow)).map((l) => `  ${l}`));

  lines.push('');
  field('Tags', `${r.tags.total} (video ${r.tags.video}, audio ${r.tags.audio}, script ${r.tags.script})`);
  field('Keyframes', String(r.keyframes));
  if (r.gop) field('GOP', formatGop(r.gop));

  lines.push('');
  const total = Object.values(r.anomalyCounts).reduce((a, b) => a + (b ?? 0), 0);
  if (total === 0) {
    field('Anomalies', 'none');
  } else {
    const counts = Object.entries(r.anomalyCounts).map(([code, n]) => `${code} ${n}`).join(', ');
    field('Anomalies', `${total} (${counts})`);
    for (const a of r.anomalies.slice(0, SHOWN_ANOMALIES)) {
      lines.push(`  ${a.offset === undefined ? '' : `@${a.offset} `}${a.message}`);
    }
    if (total > SHOWN_ANOMALIES) lines.push(`  ... ${total - Math.min(SHOWN_ANOMALIES, r.anomalies.length)} more (--json lists up to ${r.anomalies.length})`);
  }

  lines.push('');
  if (r.metadata === null) {
    field('Metadata', 'none (no onMetaData tag)');
  } else {
    lines.push('Metadata (onMetaData):');
    const entries = Object.entries(r.metadata);
    const width = entries.reduce((max, [k]) => Math.max(max, k.length), 0);
    for (const [key, value] of entries) lines.push(`  ${key.padEnd(width)}  ${formatValue(value)}`);
  }
  if (r.error) {
    lines.push('');
    field('Error', `${r.error.message} [${r.error.code}]`);
  }
  return lines.join('\n');
}

function trackRow(t: ProbeTrack): string[] {
  const shape = t.type === 'video'
    ? [t.width !== undefined ? `${t.width}x${t.height}` : '?x?', t.frameRate !== undefined ? `${t.frameRate} fps` : '']
    : [t.sampleRate !== undefined ? `${t.sampleRate} Hz` : '? Hz', t.channels === undefined ? '' : channelName(t.channels)];
  const profile = [t.profile, t.level && `@${t.level}`].filter(Boolean).join('');
  const counts = t.type === 'video' ? `${t.frames} frames, ${t.keyframes} key` : `${t.frames} frames`;
  return [t.trackId === 0 ? t.type : `${t.type} #${t.trackId}`, t.codec, t.codecString ?? '', profile, ...shape, formatBitrate(t.bitrate), counts];
}

/** Columns padded to their widest cell; empty trailing cells do not leave trailing spaces. */
function table(rows: string[][]): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => { widths[i] = Math.max(widths[i] ?? 0, cell.length); });
  return rows.map((row) => row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd());
}

function channelName(n: number): string {
  return n === 1 ? 'mono' : n === 2 ? 'stereo' : `${n} ch`;
}

function formatGop(g: GopStats): string {
  return `min ${g.minMs} / avg ${g.avgMs} / max ${g.maxMs} ms (${g.count} complete GOP${g.count === 1 ? '' : 's'})`;
}

function formatBitrate(bps: number): string {
  return bps >= 1_000_000 ? `${(bps / 1_000_000).toFixed(2)} Mb/s` : `${Math.round(bps / 1000)} kb/s`;
}

function formatDuration(ms: number): string {
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = (ms % 60_000) / 1000;
  return `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:${s.toFixed(3).padStart(6, '0')}`;
}

/** Metadata can carry long arrays (keyframe indexes of thousands of entries): summarised, not dumped. */
function formatValue(value: unknown): string {
  if (Array.isArray(value)) return value.length > 8 ? `[${value.length} items]` : JSON.stringify(value);
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
  if (value !== null && typeof value === 'object') {
    const inner = Object.entries(value).map(([k, v]) => `${k}: ${formatValue(v)}`).join(', ');
    return `{ ${inner} }`;
  }
  return typeof value === 'string' ? value : String(value);
}
