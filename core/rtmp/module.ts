import { ContainerModule } from 'inversify';
import { LIFECYCLE } from '../pipeline/app.js';
import { RTMP_SERVER, RtmpServer } from './server.js';

/** The RTMP listener as a lifecycle service: it listens only when `server.rtmp` is set and something registered. */
export const rtmpModule = new ContainerModule(({ bind }) => {
  bind(RTMP_SERVER).to(RtmpServer).inSingletonScope();
  bind(LIFECYCLE).toService(RTMP_SERVER);
});
