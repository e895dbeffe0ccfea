import { createHash, randomBytes } from 'node:crypto';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import test from 'ava';
import type { Writable } from 'node:stream';
import * as wsModule from 'ws';
import WebSocket from 'ws';
import { writeWsHeader, wsBinaryFrame, wsCloseFrame, wsFrame, wsHeaderSize } from '../core/live/ws-frame.js';

// ws ships its frame parser but @types/ws does not declare it.
const { Receiver } = wsModule as unknown as { Receiver: new (options: { isServer: boolean; maxPayload: number }) => Writable };

const SIZES = [0, 1, 125, 126, 127, 65535, 65536, 70000, 1 << 20];

test('frame layout follows RFC 6455 for 7, 16 and 64-bit lengths', (t) => {
  for (const size of SIZES) {
    const payload = randomBytes(size);
    const frame = wsBinaryFrame(payload);
    const header = wsHeaderSize(size);
    t.is(frame.length, header + size, `size ${size}`);
    t.is(frame[0], 0x82, 'FIN + binary opcode');
    t.is(frame[1]! & 0x80, 0, 'server frames are unmasked');
    const len7 = frame[1]! & 0x7f;
    if (size < 126) t.is(len7, size);
    else if (size < 65536) {
      t.is(len7, 126);
      t.is(frame.readUInt16BE(2), size);
    } else {
      t.is(len7, 127);
      t.is(frame.readBigUInt64BE(2), BigInt(size));
    }
    t.true(frame.subarray(header).equals(payload));
  }
});

test('writeWsHeader writes in place the header wsFrame makes, and says where the payload starts', (t) => {
  for (const size of SIZES) {
    const payload = randomBytes(size);
    const out = Buffer.alloc(wsHeaderSize(size) + size);
    const at = writeWsHeader(out, size);
    t.is(at, wsHeaderSize(size));
    payload.copy(out, at);
    t.deepEqual(out, wsBinaryFrame(payload), `payload of ${size} bytes`);
  }
});

test('parts are concatenated into one frame', (t) => {
  const a = Buffer.from('abc');
  const b = randomBytes(200);
  t.true(wsFrame([a, b]).equals(wsFrame(Buffer.concat([a, b]))));
});

test("ws's own Receiver parses every frame back, in one chunk or byte by byte", async (t) => {
  const payloads = SIZES.map((size) => randomBytes(size));
  const stream = Buffer.concat(payloads.map((p) => wsBinaryFrame(p)));
  for (const chunking of ['whole', 'bytes'] as const) {
    const receiver = new Receiver({ isServer: false, maxPayload: 0 });
    const got: Buffer[] = [];
    receiver.on('message', (data: Buffer, isBinary: boolean) => {
      t.true(isBinary);
      got.push(Buffer.from(data));
    });
    receiver.on('error', (error: Error) => t.fail(error.message));
    if (chunking === 'whole') receiver.write(stream);
    else for (let i = 0; i < stream.length; i += 997) receiver.write(stream.subarray(i, i + 997));
    await new Promise<void>((resolve) => receiver.end(resolve));
    t.is(got.length, payloads.length, chunking);
    got.forEach((data, i) => t.true(data.equals(payloads[i]!), `${chunking} #${i}`));
  }
});

test('a real ws client receives raw-written frames and the close code and reason', async (t) => {
  const payloads = SIZES.map((size) => randomBytes(size));
  const server = createServer((socket: Socket) => {
    socket.once('data', (request) => {
      const key = /sec-websocket-key: *(\S+)/i.exec(request.toString('latin1'))![1]!;
      const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
      socket.cork();
      for (const p of payloads) socket.write(wsBinaryFrame(p));
      socket.write(wsCloseFrame(4429, 'é'.repeat(100)));
      socket.uncork();
      socket.on('data', () => socket.end());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const client = new WebSocket(`ws://127.0.0.1:${port}/`);
  const got: Buffer[] = [];
  client.on('message', (data: Buffer) => got.push(data));
  const [code, reason] = await new Promise<[number, Buffer]>((resolve, reject) => {
    client.on('close', (c: number, r: Buffer) => resolve([c, r]));
    client.on('error', reject);
  });
  server.close();
  t.is(got.length, payloads.length);
  got.forEach((data, i) => t.true(data.equals(payloads[i]!)));
  t.is(code, 4429);
  // 100 two-byte characters cut to at most 123 bytes on a character boundary: 61 of them.
  t.is(reason.toString('utf8'), 'é'.repeat(61));
});
