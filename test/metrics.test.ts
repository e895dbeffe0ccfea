/**
 * GET /metrics with a live publisher and players: every live metric is there with a plausible value,
 * and a publisher closed for bad data counts as a publish error under its close code.
 */
import test from 'ava';
import { WebSocket } from 'ws';
import { CLOSE } from '../core/live/close.js';
import { eventually, httpFeatures, publishLoop, request, startHttpApp } from './helpers/http-app.js';
import { RecordingSocket, type Closed } from './helpers/live-clients.js';

/** Prometheus text → `name{labels}` (labels as written) → value. */
function parse(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

function value(metrics: Map<string, number>, key: string): number {
  const v = metrics.get(key);
  if (v === undefined) throw new Error(`metric ${key} is missing; have: ${[...metrics.keys()].filter((k) => k.startsWith('wsflv_')).join(', ')}`);
  return v;
}

/** Open a publisher on `url` and send it `data`; resolves with how the server closed it. */
async function badPublisher(url: string, data: Buffer | string): Promise<Closed> {
  const ws = new WebSocket(url, 'publisher');
  ws.on('error', () => undefined);
  const closed = new Promise<Closed>((resolve) => ws.once('close', (code: number, reason: Buffer) => resolve({ code, reason: reason.toString() })));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  ws.send(data);
  return closed;
}

test('GET /metrics: streams, publishers, players by transport, bytes and tags in/out, drops, closes by reason, publish errors, pipeline items', async (t) => {
  const app = await startHttpApp(httpFeatures());
  t.teardown(() => app.stop().then(() => undefined));
  const base = app.url('http');
  const pub = await publishLoop(`${app.url('ws')}/live/metrics.flv`);
  t.teardown(() => pub.stop());

  const ws1 = new RecordingSocket(`${app.url('ws')}/live/metrics.flv`);
  const ws2 = new RecordingSocket(`${app.url('ws')}/live/metrics.flv`);
  t.teardown(() => (ws1.ws.terminate(), ws2.ws.terminate()));
  await Promise.all([ws1.received(50_000, 20_000), ws2.received(50_000, 20_000)]);
  const httpPlayer = await fetch(`${base}/live/metrics.flv`);
  const reader = httpPlayer.body!.getReader();
  t.teardown(() => reader.cancel().catch(() => undefined));
  await reader.read();

  // One player leaves by itself, one is kicked through the API.
  ws1.ws.close(1000, 'bye');
  await ws1.closed;
  const detail = (await request(base, '/api/streams/live/metrics')).json;
  const victim = detail.players.find((p: { transport: string; id: string }) => p.transport === 'ws');
  t.is((await request(base, `/api/players/${victim.id}`, { method: 'DELETE' })).status, 200);
  await ws2.closed;

  // The registry adds byte and tag counts once a second: wait for a scrape that has the players' bytes.
  const scrape = await eventually(async () => {
    const res = await request(base, '/metrics');
    const m = parse(res.text);
    return (m.get('wsflv_live_bytes_sent_total') ?? 0) > 100_000 && m.get('wsflv_live_players_closed_total{code="1008",reason="policy_violation"}') === 1 ? res : undefined;
  }, 20_000, 'a scrape with the bytes sent and the kicked player');

  t.is(scrape.status, 200);
  t.regex(scrape.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  const m = parse(scrape.text);
  t.log([...m.entries()].filter(([k]) => k.startsWith('wsflv_')).map(([k, v]) => `${k} ${v}`).join('\n'));

  t.is(value(m, 'wsflv_live_streams'), 1);
  t.is(value(m, 'wsflv_live_publishers{transport="ws"}'), 1);
  t.is(value(m, 'wsflv_live_players{transport="http"}'), 1);
  t.is(value(m, 'wsflv_live_players{transport="ws"}'), 0);
  t.is(value(m, 'wsflv_server_connections{role="publisher",transport="ws"}'), 1);
  t.is(value(m, 'wsflv_server_connections{role="player",transport="http"}'), 1);

  const bytesIn = value(m, 'wsflv_live_bytes_received_total');
  const bytesOut = value(m, 'wsflv_live_bytes_sent_total');
  const tagsIn = value(m, 'wsflv_live_tags_received_total');
  const tagsOut = value(m, 'wsflv_live_tags_sent_total');
  t.true(bytesIn > 50_000, `bytes in ${bytesIn}`);
  t.true(bytesOut > bytesIn, `bytes out ${bytesOut} (three players of one stream) vs in ${bytesIn}`);
  t.true(tagsIn > 10, `tags in ${tagsIn}`);
  // Current at the scrape: every tag the pipeline parsed has reached the live channel's count.
  t.is(tagsIn, value(m, 'wsflv_pipeline_items_total{pipeline="live",component="ws-play",id="live.sinks[0]"}'));
  t.true(tagsOut > tagsIn, `tags out ${tagsOut} vs in ${tagsIn}`);
  t.is(value(m, 'wsflv_live_frames_dropped_total'), 0);

  t.is(value(m, 'wsflv_live_players_closed_total{code="peer",reason="peer"}'), 1);
  t.is(value(m, 'wsflv_live_players_closed_total{code="1008",reason="policy_violation"}'), 1);

  for (const [component, id] of [['flv-demux', 'live.stages[0]'], ['timestamps', 'live.stages[1]'], ['ws-play', 'live.sinks[0]']]) {
    t.true(value(m, `wsflv_pipeline_items_total{pipeline="live",component="${component}",id="${id}"}`) > 0, component);
  }
  t.true(value(m, 'process_cpu_user_seconds_total') > 0);
  t.true(scrape.text.includes('# HELP wsflv_publish_errors_total '));
});

test('a publisher closed for a problem counts as a publish error under its close code', async (t) => {
  const app = await startHttpApp(httpFeatures({ web: false }));
  t.teardown(() => app.stop().then(() => undefined));
  const scrape = async () => parse((await request(app.url('http'), '/metrics')).text);
  t.true((await request(app.url('http'), '/metrics')).text.includes('# TYPE wsflv_publish_errors_total counter'), 'declared before any error');
  t.is((await scrape()).get('wsflv_publish_errors_total{code="1007"}'), undefined);

  // Bytes that are not FLV (1007), a text message (1003), and FLV again (1007 once more).
  t.is((await badPublisher(`${app.url('ws')}/live/bad1.flv`, Buffer.from('definitely not an FLV stream'))).code, CLOSE.invalidPayload);
  t.is((await badPublisher(`${app.url('ws')}/live/bad2.flv`, 'hello')).code, CLOSE.unsupportedData);
  t.is((await badPublisher(`${app.url('ws')}/live/bad3.flv`, Buffer.from('FLX\x01\x05\0\0\0\x09\0\0\0\0', 'latin1'))).code, CLOSE.invalidPayload);

  const m = await eventually(async () => {
    const now = await scrape();
    return now.get('wsflv_publish_errors_total{code="1007"}') === 2 && now.get('wsflv_publish_errors_total{code="1003"}') === 1 ? now : undefined;
  }, 10_000, 'publish errors counted');
  t.is(value(m, 'wsflv_publish_errors_total{code="1007"}'), 2);
  t.is(value(m, 'wsflv_publish_errors_total{code="1003"}'), 1);
});

test('server.metrics off: no /metrics', async (t) => {
  const app = await startHttpApp(httpFeatures({ metrics: false, web: false }));
  t.teardown(() => app.stop().then(() => undefined));
  t.is((await request(app.url('http'), '/metrics')).status, 404);
});

test('/metrics is GET only and exact', async (t) => {
  const app = await startHttpApp(httpFeatures({ web: false }));
  t.teardown(() => app.stop().then(() => undefined));
  t.is((await request(app.url('http'), '/metrics', { method: 'POST' })).status, 405);
  t.is((await request(app.url('http'), '/metrics/extra')).status, 404);
});
