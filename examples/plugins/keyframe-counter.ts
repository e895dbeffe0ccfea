/**
 * An example plugin: a stage that counts video keyframes per stream, logs the GOP length as it goes,
 * and reports the count as a Prometheus metric. Load it with `plugins: [./plugins/keyframe-counter.ts]`.
 *
 * A plugin is a module whose default export is a ContainerModule: `componentModule(...)` binds each
 * component class the way the built-in ones are bound, and services come in through `@inject`.
 */
import { inject, injectable } from 'inversify';
import { tap } from 'rxjs';
import { z } from 'zod';
import type { MediaPacket } from '../../core/media/packet.js';
import { METRICS, type Metrics } from '../../core/metrics.js';
import type { StageComponent, StreamContext } from '../../core/pipeline/component.js';
import { MEDIA_PACKETS } from '../../core/pipeline/kinds.js';
import { componentModule } from '../../core/pipeline/module.js';

const options = z
  .object({
    logEvery: z.number().int().min(1).default(10).describe('log one line every N keyframes'),
  })
  .strict();

@injectable()
export class CountKeyframesStage implements StageComponent<z.infer<typeof options>> {
  readonly role = 'stage';
  readonly type = 'count-keyframes';
  readonly description = 'Counts video keyframes and logs the GOP length';
  readonly consumes = MEDIA_PACKETS;
  readonly produces = MEDIA_PACKETS;
  readonly options = options;

  constructor(@inject(METRICS) private readonly metrics: Metrics) {}

  create(config: z.infer<typeof options>) {
    const counter = this.metrics.counter('wsflv_example_keyframes_total', 'Video keyframes seen', ['pipeline', 'stream']);
    return (ctx: StreamContext) => {
      const child = counter.labels(ctx.pipeline, ctx.key);
      let count = 0;
      let lastKeyframeDts: number | undefined;
      return tap<MediaPacket>((packet) => {
        if (packet.kind !== 'video' || !packet.keyframe || packet.config) return;
        count++;
        child.inc();
        if (count % config.logEvery === 0) {
          ctx.logger.info({ keyframes: count, gopMs: lastKeyframeDts === undefined ? undefined : packet.dts - lastKeyframeDts }, 'keyframes');
        }
        lastKeyframeDts = packet.dts;
      });
    };
  }
}

export default componentModule(CountKeyframesStage);
