import { createHmac, randomBytes } from 'node:crypto';
import { RtmpError } from '../errors.js';

/**
 * The RTMP handshake (Adobe RTMP spec §5.2): C0 (version 3) and C1 (1536 bytes) in, S0 S1 S2 out,
 * then C2 (1536 bytes) in. Two flavours share the layout:
 * - plain: C1 is time, zero, random; S2 echoes C1;
 * - digest ("complex", what Flash Player, OBS and ffmpeg send: C1's bytes 4..7 are a non-zero
 *   version): C1 carries an HMAC-SHA256 digest at an offset given by either of two schemes; the
 *   server answers S1 with its own digest at the same scheme and S2 with a digest keyed by the
 *   client's, which the client checks.
 * Facts from the spec and its widely documented digest extension: the key texts, the 32-byte tail
 * shared by both keys, and the two offset schemes.
 */
export const HANDSHAKE_SIZE = 1536;
const RTMP_VERSION = 3;

const KEY_TAIL = Buffer.from('f0eec24a8068bee82e00d0d1029e7e576eec5d2d29806fab93b8e636cfeb31ae', 'hex');
const CLIENT_KEY_TEXT = Buffer.from('Genuine Adobe Flash Player 001', 'latin1');
const SERVER_KEY_TEXT = Buffer.from('Genuine Adobe Flash Media Server 001', 'latin1');
/** Keys of the C1 and S1 digests (their texts alone) and of the S2/C2 digest key (text and tail). */
const CLIENT_KEY = CLIENT_KEY_TEXT;
const SERVER_KEY = SERVER_KEY_TEXT;
const SERVER_FULL_KEY = Buffer.concat([SERVER_KEY_TEXT, KEY_TAIL]);
const CLIENT_FULL_KEY = Buffer.concat([CLIENT_KEY_TEXT, KEY_TAIL]);
const DIGEST_SIZE = 32;
/** What the server says it is in S1's version field: any non-zero value means "digest handshake". */
const SERVER_VERSION = Buffer.from([0x0d, 0x0e, 0x0a, 0x0d]);

type Scheme = 0 | 1;

function hmac(key: Buffer, ...parts: Buffer[]): Buffer {
  const h = createHmac('sha256', key);
  for (const part of parts) h.update(part);
  return h.digest();
}

/** Where the digest sits in a 1536-byte C1/S1 under `scheme`: four offset bytes summed, mod 728. */
export function digestOffset(block: Buffer, scheme: Scheme): number {
  const base = scheme === 0 ? 8 : 772;
  const sum = block[base]! + block[base + 1]! + block[base + 2]! + block[base + 3]!;
  return (sum % 728) + base + 4;
}

function digestAt(block: Buffer, offset: number, key: Buffer): Buffer {
  return hmac(key, block.subarray(0, offset), block.subarray(offset + DIGEST_SIZE));
}

/** The scheme whose digest checks out in a client's C1, if any. */
export function findClientDigest(c1: Buffer): { scheme: Scheme; digest: Buffer } | undefined {
  for (const scheme of [0, 1] as const) {
    const offset = digestOffset(c1, scheme);
    const digest = c1.subarray(offset, offset + DIGEST_SIZE);
    if (digestAt(c1, offset, CLIENT_KEY).equals(digest)) return { scheme, digest: Buffer.from(digest) };
  }
  return undefined;
}

/** A block with random content, `time` and `version`, and (when a key is given) its digest written in place. */
function makeBlock(time: number, version: Buffer, digest?: { scheme: Scheme; key: Buffer }): Buffer {
  const block = randomBytes(HANDSHAKE_SIZE);
  block.writeUInt32BE(time >>> 0, 0);
  version.copy(block, 4);
  if (digest) {
    const offset = digestOffset(block, digest.scheme);
    digestAt(block, offset, digest.key).copy(block, offset);
  }
  return block;
}

/** S0 + S1 + S2 for a client's C1: the digest answer when C1 carries a valid digest, else the plain echo. */
export function serverHandshakeReply(c1: Buffer, now = 0): { reply: Buffer; digest: boolean } {
  const s0 = Buffer.from([RTMP_VERSION]);
  const clientVersion = c1.readUInt32BE(4);
  const found = clientVersion === 0 ? undefined : findClientDigest(c1);
  if (!found) {
    // Plain: S1 is our own time and random bytes, S2 echoes C1 with its time.
    const s1 = makeBlock(now, Buffer.alloc(4));
    const s2 = Buffer.from(c1);
    s2.writeUInt32BE(now >>> 0, 4);
    return { reply: Buffer.concat([s0, s1, s2]), digest: false };
  }
  const s1 = makeBlock(now, SERVER_VERSION, { scheme: found.scheme, key: SERVER_KEY });
  const s2 = randomBytes(HANDSHAKE_SIZE);
  const key = hmac(SERVER_FULL_KEY, found.digest);
  hmac(key, s2.subarray(0, HANDSHAKE_SIZE - DIGEST_SIZE)).copy(s2, HANDSHAKE_SIZE - DIGEST_SIZE);
  return { reply: Buffer.concat([s0, s1, s2]), digest: true };
}

/** C0 + C1 as a client sends them (digest flavour, scheme 0). */
export function clientHello(now = 0): { hello: Buffer; c1: Buffer } {
  const c1 = makeBlock(now, Buffer.from([0x0a, 0x00, 0x2d, 0x02]), { scheme: 0, key: CLIENT_KEY });
  return { hello: Buffer.concat([Buffer.from([RTMP_VERSION]), c1]), c1 };
}

/**
 * The client's C2 for a server's S1, and whether S1 carried a valid server digest (a plain server
 * is answered with the echo of S1, as the plain handshake asks).
 */
export function clientAnswer(s1: Buffer): { c2: Buffer; digest: boolean } {
  for (const scheme of [0, 1] as const) {
    const offset = digestOffset(s1, scheme);
    const digest = s1.subarray(offset, offset + DIGEST_SIZE);
    if (s1.readUInt32BE(4) !== 0 && digestAt(s1, offset, SERVER_KEY).equals(digest)) {
      const c2 = randomBytes(HANDSHAKE_SIZE);
      const key = hmac(CLIENT_FULL_KEY, digest);
      hmac(key, c2.subarray(0, HANDSHAKE_SIZE - DIGEST_SIZE)).copy(c2, HANDSHAKE_SIZE - DIGEST_SIZE);
      return { c2, digest: true };
    }
  }
  return { c2: Buffer.from(s1), digest: false };
}

/** Checks an S2 against the C1 digest it answers (digest flavour). */
export function serverS2Valid(c1: Buffer, s2: Buffer): boolean {
  const found = findClientDigest(c1);
  if (!found) return true;
  const key = hmac(SERVER_FULL_KEY, found.digest);
  return hmac(key, s2.subarray(0, HANDSHAKE_SIZE - DIGEST_SIZE)).equals(s2.subarray(HANDSHAKE_SIZE - DIGEST_SIZE));
}

/**
 * The server side of the handshake as an incremental parser: feed it bytes as they arrive; it
 * answers once C0+C1 are in and is done once C2 is in, handing back whatever followed (the first
 * chunks). A wrong version byte is an RtmpError; a bounded wait is the caller's (a slow peer).
 */
export class ServerHandshake {
  #buffered: Buffer[] = [];
  #length = 0;
  #state: 'c0c1' | 'c2' | 'done' = 'c0c1';
  digest = false;

  constructor(private readonly now: () => number = () => 0) {}

  get done(): boolean {
    return this.#state === 'done';
  }

  /** Returns what to send (S0 S1 S2, once) and, when done, the bytes after C2. */
  push(chunk: Buffer): { send?: Buffer; rest?: Buffer } {
    if (this.#state === 'done') return { rest: chunk };
    this.#buffered.push(chunk);
    this.#length += chunk.length;
    const out: { send?: Buffer; rest?: Buffer } = {};
    if (this.#state === 'c0c1' && this.#length >= 1 + HANDSHAKE_SIZE) {
      const all = this.#take();
      if (all[0] !== RTMP_VERSION) {
        throw new RtmpError('WSFLV_ERR_RTMP_HANDSHAKE', `RTMP handshake: version ${all[0]} (only ${RTMP_VERSION} is RTMP; RTMPE/RTMPT are not served)`);
      }
      const c1 = all.subarray(1, 1 + HANDSHAKE_SIZE);
      const { reply, digest } = serverHandshakeReply(c1, this.now());
      this.digest = digest;
      out.send = reply;
      this.#state = 'c2';
      this.#keep(all.subarray(1 + HANDSHAKE_SIZE));
    }
    if (this.#state === 'c2' && this.#length >= HANDSHAKE_SIZE) {
      const all = this.#take();
      // C2 is not checked: clients differ in what they echo, and nothing depends on it.
      this.#state = 'done';
      out.rest = all.subarray(HANDSHAKE_SIZE);
    }
    return out;
  }

  #take(): Buffer {
    const all = this.#buffered.length === 1 ? this.#buffered[0]! : Buffer.concat(this.#buffered);
    this.#buffered = [];
    this.#length = 0;
    return all;
  }

  #keep(rest: Buffer): void {
    if (rest.length === 0) return;
    this.#buffered = [rest];
    this.#length = rest.length;
  }
}
