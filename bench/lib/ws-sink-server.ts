/**
 * The plain-library baseline for WebSocket ingest: a `ws` server that takes every message of every
 * connection and drops it. No parsing, no fan-out: what receiving the bytes costs with the library alone.
 *
 * Usage: node --import=tsx bench/lib/ws-sink-server.ts PORT   (listens on 127.0.0.1 only)
 */
import { WebSocketServer } from 'ws';

const port = Number(process.argv[2]);
if (!Number.isInteger(port) || port <= 0) throw new Error('usage: ws-sink-server.ts PORT');

let bytes = 0;
const wss = new WebSocketServer({ host: '127.0.0.1', port, perMessageDeflate: false, handleProtocols: (protocols) => [...protocols][0] ?? false });
wss.on('connection', (ws) => {
  ws.on('message', (data: Buffer) => {
    bytes += data.length;
  });
});

process.on('SIGTERM', () => {
  wss.close();
  for (const client of wss.clients) client.terminate();
  process.stdout.write(`received ${bytes} bytes\n`);
  process.exit(0);
});
