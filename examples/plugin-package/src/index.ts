/**
 * A stage that drops video and keeps audio and script data: an audio-only rendition of a stream.
 * It logs how many video packets it dropped when the stream ends.
 */
import { componentModule, defineStage, rxjs, z } from 'wsflv/plugin';

const { filter, finalize, pipe } = rxjs;

export const stripVideo = defineStage({
  type: 'strip-video',
  description: 'Drops video packets, keeps audio and script data',
  consumes: 'media-packets',
  produces: 'media-packets',
  options: z
    .object({
      keepScript: z.boolean().default(true).describe('keep onMetaData and other script tags'),
    })
    .strict(),
  create(options) {
    return (ctx) => {
      let dropped = 0;
      return pipe(
        filter((packet) => {
          if (packet.kind === 'video' || (packet.kind === 'script' && !options.keepScript)) {
            dropped++;
            return false;
          }
          return true;
        }),
        finalize(() => ctx.logger.info({ dropped }, 'video stripped')),
      );
    };
  },
});

export default componentModule(stripVideo);
