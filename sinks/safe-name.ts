/**
 * A stream key's part as a file or directory name: characters outside `A-Z a-z 0-9 _ . -` become
 * `_`, and leading dots too, so no stream name can leave the folder it is written under or hide there.
 */
export function safeName(part: string): string {
  return part.replace(/[^A-Za-z0-9_.-]/g, '_').replace(/^\.+/, '_');
}
