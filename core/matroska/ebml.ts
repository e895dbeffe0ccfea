/**
 * EBML, the binary layout under Matroska: each element is an ID (its own length marker included), a
 * variable-length size, and a payload. Only what a live writer needs: elements of known size, and the
 * all-ones "unknown size" for a Segment or Cluster whose end is not known while it is written.
 */

/** The 8-byte unknown-size marker: the element runs until its parent ends or a sibling starts. */
export const UNKNOWN_SIZE = Buffer.from([0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);

/** An element ID as its bytes (IDs carry their own length in their leading bits). */
function idBytes(id: number): Buffer {
  const length = id > 0xffffff ? 4 : id > 0xffff ? 3 : id > 0xff ? 2 : 1;
  const out = Buffer.alloc(length);
  out.writeUIntBE(id, 0, length);
  return out;
}

/** A size as the shortest EBML variable-length integer (all-ones values are reserved, hence `- 1`). */
export function vint(value: number): Buffer {
  for (let length = 1; length <= 8; length++) {
    if (value < 2 ** (7 * length) - 1) {
      const out = Buffer.alloc(length);
      let rest = value;
      for (let i = length - 1; i >= 0; i--) {
        out[i] = rest % 256;
        rest = Math.floor(rest / 256);
      }
      out[0]! |= 0x80 >> (length - 1);
      return out;
    }
  }
  throw new RangeError(`EBML size too large: ${value}`);
}

export function element(id: number, ...payload: Buffer[]): Buffer {
  const body = Buffer.concat(payload);
  return Buffer.concat([idBytes(id), vint(body.length), body]);
}

/** An element whose size is not known: its children follow as they are written. */
export function openElement(id: number): Buffer {
  return Buffer.concat([idBytes(id), UNKNOWN_SIZE]);
}

export function uintElement(id: number, value: number): Buffer {
  let length = 1;
  while (length < 8 && value >= 2 ** (8 * length)) length++;
  const out = Buffer.alloc(length);
  let rest = value;
  for (let i = length - 1; i >= 0; i--) {
    out[i] = rest % 256;
    rest = Math.floor(rest / 256);
  }
  return element(id, out);
}

export function floatElement(id: number, value: number): Buffer {
  const out = Buffer.alloc(8);
  out.writeDoubleBE(value);
  return element(id, out);
}

export function stringElement(id: number, value: string): Buffer {
  return element(id, Buffer.from(value, 'utf8'));
}
