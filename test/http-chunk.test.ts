import { randomBytes } from 'node:crypto';
import { get } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import test from 'ava';
import { httpChunk, HTTP_LAST_CHUNK } from '../core/live/http-chunk.js';

test('layout: hex size, CRLF, payload verbatim, CRLF; empty payloads refused', (t) => {
  for (const size of [1, 15, 16, 255, 4096, 70000]) {
    const payload = randomBytes(size);
    const chunk = httpChunk(payload);
    const head = `${size.toString(16)}\r\n`;
    t.is(chunk.subarray(0, head.length).toString('latin1'), head);
    t.true(chunk.subarray(head.length, head.length + size).equals(payload));
    t.is(chunk.subarray(head.length + size).toString('latin1'), '\r\n');
  }
  t.true(httpChunk([Buffer.from('ab'), Buffer.from('c')]).equals(Buffer.from('3\r\nabc\r\n')));
  t.throws(() => httpChunk(Buffer.alloc(0)), { instanceOf: RangeError });
  t.is(HTTP_LAST_CHUNK.toString('latin1'), '0\r\n\r\n');
});

test("node's HTTP client decodes raw-written chunks back to the payloads", async (t) => {
  const payloads = [1, 300, 65536, 100_000].map((size) => randomBytes(size));
  const server = createServer((socket) => {
    socket.once('data', () => {
      socket.write('HTTP/1.1 200 OK\r\nContent-Type: video/x-flv\r\nTransfer-Encoding: chunked\r\n\r\n');
      for (const p of payloads) socket.write(httpChunk(p));
      socket.end(HTTP_LAST_CHUNK);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const body = await new Promise<Buffer>((resolve, reject) => {
    get(`http://127.0.0.1:${port}/live/x.flv`, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => resolve(Buffer.concat(parts)));
      res.on('error', reject);
    }).on('error', reject);
  });
  server.close();
  t.true(body.equals(Buffer.concat(payloads)));
});
