/**
 * Type-level checks for typed links, verified by `tsc --noEmit` (part of `npm test`): each
 * `@ts-expect-error` fails the build if the line below it ever starts to compile.
 */
import { map } from 'rxjs';
import { z } from 'zod';
import { defineStage, type MediaPacket } from 'wsflv/plugin';

const options = z.object({}).strict();

export const packetsToBytes = defineStage({
  type: 'typed-ok',
  description: 'media packets in, FLV bytes out',
  consumes: 'media-packets',
  produces: 'flv-bytes',
  options,
  create: () => () => map((packet: MediaPacket) => packet.body),
});

export const emitsTheWrongKind = defineStage({
  type: 'typed-wrong',
  description: 'declares FLV bytes out but emits media packets',
  consumes: 'media-packets',
  produces: 'flv-bytes',
  options,
  // @ts-expect-error the operator emits MediaPacket where the declared kind carries Buffer
  create: () => () => map((packet: MediaPacket) => packet),
});
