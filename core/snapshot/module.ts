import { ContainerModule } from 'inversify';
import { SNAPSHOTS, SnapshotStore } from './store.js';

/** The snapshot store: one per container, shared by `snapshot` sinks and the API. */
export const snapshotModule = new ContainerModule(({ bind }) => {
  bind(SNAPSHOTS).to(SnapshotStore).inSingletonScope();
});
