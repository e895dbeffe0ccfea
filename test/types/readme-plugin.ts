// The README's "Writing a plugin" stage, kept compiling (tsc checks test/types).
import { componentModule, defineStage, rxjs, StreamError, z } from '../../core/pipeline/plugin-api.js';

export const needAudio = defineStage({
  type: 'need-audio',
  description: 'Ends a stream that has no audio within `withinMs`',
  consumes: 'media-packets',
  produces: 'media-packets',
  options: z.object({ withinMs: z.number().int().min(1).default(3000) }).strict(),
  // create() runs once per pipeline; the function it returns runs once per stream.
  create: ({ withinMs }) => () => {
    let heard = false;
    return rxjs.tap((packet) => {
      if (packet.kind === 'audio') heard = true;
      else if (!heard && packet.dts > withinMs) throw new StreamError({ code: 'PLUGIN_ERR_NO_AUDIO', reason: 'this service needs audio', close: { ws: 4415, http: 415 } });
    });
  },
});

export default componentModule(needAudio);

