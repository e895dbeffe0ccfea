/**
 * An example plugin: a stage that counts video keyframes per stream, logs the GOP length as it goes,
 * and reports the count as a Prometheus metric. Load it with `plugins: [./plugins/keyframe-counter.ts]`.
 *
 * It imports only the public entry point `wsflv/plugin`, and is declared without classes or
 * decorators: `defineStage` ties `consumes`/`produces` to the packet type, and `inject` names the
 * services `create` receives.
 */
import { tap } from 'rxjs';
import { z } from 'zod';
import { componentModule, defineStage, METRICS } from 'wsflv/plugin';

export const countKeyframes = defineStage({
  type: 'count-keyframes',
  description: 'Counts video keyframes and logs the GOP length',
  consumes: 'media-packets',
  produces: 'media-packets',
  options: z
    .object({
      logEvery: z.number().int().min(1).default(10).describe('log one line every N keyframes'),
    })
    .strict(),
  inject: { metrics: METRICS },
  create(config, _pipeline, { metrics }) {
    const counter = metrics.counter('wsflv_example_keyframes_total', 'Video keyframes seen', ['pipeline', 'stream']);
    return (ctx) => {
      const child = counter.labels(ctx.pipeline, ctx.key);
      let count = 0;
      let lastKeyframeDts: number | undefined;
      return tap((packet) => {
        if (packet.kind !== 'video' || !packet.keyframe || packet.config) return;
        count++;
        child.inc();
        if (count % config.logEvery === 0) {
          ctx.logger.info({ keyframes: count, gopMs: lastKeyframeDts === undefined ? undefined : packet.dts - lastKeyframeDts }, 'keyframes');
        }
        lastKeyframeDts = packet.dts;
      });
    };
  },
});

export default componentModule(countKeyframes);
