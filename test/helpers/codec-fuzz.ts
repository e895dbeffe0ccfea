import fc from 'fast-check';
import type { ExecutionContext } from 'ava';
import { CodecConfigError } from '../../core/errors.js';

/**
 * Feeds a parser random bytes, every truncation of each real record, and real records with random
 * bytes overwritten. Each call must either return or throw CodecConfigError: a RangeError or
 * TypeError from reading past the end would be a bug.
 */
export function assertOnlyCodecConfigErrors(
  t: ExecutionContext,
  parse: (b: Buffer) => unknown,
  seeds: Buffer[],
  numRuns = 500,
): void {
  const check = (b: Buffer) => {
    try {
      parse(b);
    } catch (err) {
      if (!(err instanceof CodecConfigError)) {
        throw new Error(`input ${b.toString('hex')} raised ${String(err)}`, { cause: err });
      }
      if (err.code !== 'WSFLV_ERR_CODEC_CONFIG') throw new Error(`unexpected code ${err.code}`);
    }
  };
  for (const seed of seeds) {
    for (let n = 0; n < seed.length; n++) check(Buffer.from(seed.subarray(0, n)));
  }
  fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => check(Buffer.from(bytes))), { numRuns });
  if (seeds.length > 0) {
    const mutated = fc
      .record({
        seed: fc.integer({ min: 0, max: seeds.length - 1 }),
        edits: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
      })
      .map(({ seed, edits }) => {
        const b = Buffer.from(seeds[seed]!);
        for (const [at, v] of edits) if (b.length > 0) b[at % b.length] = v;
        return b;
      });
    fc.assert(fc.property(mutated, check), { numRuns });
  }
  t.pass();
}
