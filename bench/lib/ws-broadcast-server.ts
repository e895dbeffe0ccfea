/**
 * The floor for Node.js fan-out: a plain `ws` server that forwards every publisher message, as is, to
 * every player with ws.send. A connection offering subprotocol `publisher` publishes; every other
 * connection plays. A late player gets the publisher's first message (the bench sends the FLV header,
 * metadata and decoder configurations in it), then live messages. No parsing, no GOP, no backpressure.
 *
 * Usage: node --import=tsx bench/lib/ws-broadcast-server.ts PORT   (listens on 127.0.0.1 only)
 */
import { WebSocketServer, type WebSocket } from 'ws';

const port = Number(process.argv[2]);
if (!Number.isInteger(port) || port <= 0) throw new Error('usage: ws-broadcast-server.ts PORT');

const players = new Set<WebSocket>();
let first: Buffer | undefined;
let publisher: WebSocket | undefined;

const wss = new WebSocketServer({
  host: '127.0.0.1',
  port,
  perMessageDeflate: false,
  handleProtocols: (protocols) => (protocols.has('publisher') ? 'publisher' : false),
});

wss.on('connection', (ws) => {
  if (ws.protocol === 'publisher') {
    if (publisher) {
      ws.close(4409, 'stream busy');
      return;
    }
    publisher = ws;
    first = undefined;
    ws.on('message', (data: Buffer) => {
      if (first === undefined) first = data;
      for (const player of players) player.send(data);
    });
    ws.on('close', () => {
      publisher = undefined;
    });
    return;
  }
  if (first !== undefined) ws.send(first);
  players.add(ws);
  ws.on('close', () => players.delete(ws));
  ws.on('error', () => players.delete(ws));
});

wss.on('listening', () => process.stdout.write(`listening ${port}\n`));
process.on('SIGTERM', () => {
  for (const client of wss.clients) client.terminate();
  wss.close(() => process.exit(0));
  // The listener may wait on connections still closing: do not outlive the bench that stopped us.
  setTimeout(() => process.exit(0), 1000).unref();
});
