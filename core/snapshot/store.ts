import { injectable, type ServiceIdentifier } from 'inversify';

export interface Snapshot {
  jpeg: Buffer;
  /** Wall-clock ms when it was taken. */
  takenAt: number;
  /** The stream time (dts, ms) of the keyframe it shows. */
  dts: number;
  width: number;
  height: number;
}

/** The latest JPEG of each stream, written by `snapshot` sinks and served by the API. */
@injectable()
export class SnapshotStore {
  readonly #snapshots = new Map<string, Snapshot>();

  set(key: string, snapshot: Snapshot): void {
    this.#snapshots.set(key, snapshot);
  }

  get(key: string): Snapshot | undefined {
    return this.#snapshots.get(key);
  }

  delete(key: string): void {
    this.#snapshots.delete(key);
  }
}

export const SNAPSHOTS: ServiceIdentifier<SnapshotStore> = Symbol.for('wsflv.snapshots');
