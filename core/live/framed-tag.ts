import { framerFor } from './framing.js';
import { httpChunk } from './http-chunk.js';
import type { Framing, Frameable, OutboundTag } from './player.js';
import { wsBinaryFrame } from './ws-frame.js';

/** FLV bytes that frame themselves once per transport kind, however many players take them. */
export class FramedBuffer implements Frameable {
  readonly flv: Buffer;
  #ws: Buffer | undefined;
  #http: Buffer | undefined;
  /** Framings registered by other transports (core/live/framing.ts), built on first use. */
  #other: Map<string, Buffer> | undefined;

  /** `ws`: the WebSocket frame when it was built with the FLV bytes (they are then a view into it). */
  constructor(flv: Buffer, ws?: Buffer) {
    this.flv = flv;
    this.#ws = ws;
  }

  framed(framing: Framing): Buffer {
    // The two built-in framings keep their own fields: they are on the hot path of every tag.
    if (framing === 'ws') return (this.#ws ??= wsBinaryFrame(this.flv));
    if (framing === 'http') return (this.#http ??= httpChunk(this.flv));
    let framed = this.#other?.get(framing);
    if (!framed) {
      framed = framerFor(framing)(this.flv);
      (this.#other ??= new Map()).set(framing, framed);
    }
    return framed;
  }
}

/** One tag as the channel fans it out: muxed once, framed at most once per transport kind. */
export class ChannelTag extends FramedBuffer implements OutboundTag {
  constructor(
    readonly kind: OutboundTag['kind'],
    readonly dts: number,
    readonly keyframe: boolean,
    readonly config: boolean,
    flv: Buffer,
    readonly trackId?: number,
    ws?: Buffer,
  ) {
    super(flv, ws);
  }
}
