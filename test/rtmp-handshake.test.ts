import test from 'ava';
import fc from 'fast-check';
import { RtmpError } from '../core/errors.js';
import { clientAnswer, clientHello, findClientDigest, HANDSHAKE_SIZE, serverS2Valid, ServerHandshake } from '../core/rtmp/handshake.js';

test('digest handshake: the server answers a digest C1 with an S1 and S2 the client validates', (t) => {
  const { hello, c1 } = clientHello(1234);
  t.truthy(findClientDigest(c1));
  const server = new ServerHandshake();
  const { send } = server.push(hello);
  t.is(send!.length, 1 + 2 * HANDSHAKE_SIZE);
  t.true(server.digest);
  const s1 = send!.subarray(1, 1 + HANDSHAKE_SIZE);
  const s2 = send!.subarray(1 + HANDSHAKE_SIZE);
  t.true(clientAnswer(s1).digest, 'S1 carries a valid server digest');
  t.true(serverS2Valid(c1, s2), 'S2 is keyed by the client digest');
  const { c2 } = clientAnswer(s1);
  const done = server.push(Buffer.concat([c2, Buffer.from([1, 2, 3])]));
  t.true(server.done);
  t.deepEqual([...done.rest!], [1, 2, 3], 'bytes after C2 are handed on');
});

test('plain handshake: S2 echoes C1', (t) => {
  const c1 = Buffer.alloc(HANDSHAKE_SIZE, 7);
  c1.writeUInt32BE(0, 4);
  const server = new ServerHandshake();
  const { send } = server.push(Buffer.concat([Buffer.from([3]), c1]));
  t.false(server.digest);
  t.true(send!.subarray(1 + HANDSHAKE_SIZE + 8).equals(c1.subarray(8)));
});

test('any split of C0 C1 C2 gives the same result; a wrong version is an RtmpError; garbage never throws anything else', (t) => {
  const { hello } = clientHello();
  const c2 = Buffer.alloc(HANDSHAKE_SIZE, 1);
  const whole = Buffer.concat([hello, c2, Buffer.from('tail')]);
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 1, max: 4000 }), { maxLength: 10 }), (sizes) => {
      const server = new ServerHandshake();
      let at = 0;
      let replies = 0;
      let rest = Buffer.alloc(0);
      for (const size of [...sizes, whole.length]) {
        const out = server.push(whole.subarray(at, at + size));
        at += size;
        if (out.send) replies++;
        if (out.rest) rest = Buffer.concat([rest, out.rest]);
        if (at >= whole.length) break;
      }
      t.is(replies, 1);
      t.true(server.done);
      t.is(rest.toString(), 'tail');
    }),
    { numRuns: 2000 },
  );
  t.throws(() => new ServerHandshake().push(Buffer.concat([Buffer.from([6]), Buffer.alloc(HANDSHAKE_SIZE)])), { instanceOf: RtmpError, code: 'WSFLV_ERR_RTMP_HANDSHAKE' });
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 0, maxLength: 4000 }), (bytes) => {
      try {
        new ServerHandshake().push(Buffer.from(bytes));
      } catch (error) {
        t.true(error instanceof RtmpError);
      }
    }),
    { numRuns: 3000 },
  );
});
