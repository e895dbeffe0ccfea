/** An FLV header is 9 bytes, then PreviousTagSize0: 13 bytes before the first tag. */
export const FLV_PREAMBLE_BYTES = 13;

/**
 * Drops the first 13 bytes of a byte stream, however it is chunked: a reconnection or a restarted
 * writer starts with its own FLV header, which must not reach a demuxer already past one.
 */
export function dropFlvPreamble(): (chunk: Buffer) => Buffer {
  let skip = FLV_PREAMBLE_BYTES;
  return (chunk) => {
    if (skip === 0) return chunk;
    const take = Math.min(skip, chunk.length);
    skip -= take;
    return chunk.subarray(take);
  };
}
