import { injectable } from 'inversify';
import { z } from 'zod';
import { WsflvError } from '../core/errors.js';
import type { Component, FileProblem, StageComponent } from '../core/pipeline/component.js';
import type { ComponentUse } from '../core/pipeline/config.js';
import { MEDIA_PACKETS } from '../core/pipeline/kinds.js';

const MOVED = 'the GOP cache is an option of the play sinks, on by default (a stage never decided it: its place in the chain made no difference): remove `gop-cache` and, to change its bounds, set `gop: { maxFrames, maxBytes, maxMs }` on the play sink (`gop: false` turns it off)';

/**
 * Kept only so a file that still has it is told, at load, what to write instead. The GOP a late
 * joiner starts from is kept by the live channel itself, sized by the play sinks' `gop` option.
 */
@injectable()
export class GopCacheStage implements StageComponent<unknown> {
  readonly role = 'stage';
  readonly type = 'gop-cache';
  readonly description = 'Replaced by the play sinks\' `gop` option (a file using it is refused, saying so)';
  readonly consumes = MEDIA_PACKETS;
  readonly produces = MEDIA_PACKETS;
  // Any options: the check's message is the one that helps.
  readonly options = z.object({}).passthrough();

  check(_use: ComponentUse<Component>): FileProblem[] {
    return [{ message: MOVED }];
  }

  create(): never {
    throw new WsflvError('WSFLV_ERR_CONFIG', MOVED);
  }
}
