import type { ServiceIdentifier } from 'inversify';
import { z, type ZodRawShape } from 'zod';

/**
 * A top-level section of the pipeline file that a service owns (`server:` belongs to the live
 * listener), declared by the module that brings the service: the framework validates it with the
 * others, reports its problems in the same round, and binds the validated value to `token`. Several
 * modules may add fields to one section (access control adds `auth` and `hooks` to `server:`); their
 * shapes are merged, and a field claimed twice is an error. So the framework knows no section's
 * schema, and a file that uses a section no loaded module owns is told so.
 */
export interface ConfigSectionPart {
  /** The top-level key in the file. */
  readonly name: string;
  readonly token: ServiceIdentifier<unknown>;
  readonly shape: ZodRawShape;
  readonly description?: string;
}

/** Multi-injection token: every part of every section the loaded modules declare. */
export const CONFIG_SECTION: ServiceIdentifier<ConfigSectionPart> = Symbol.for('wsflv.config-section');

export interface ConfigSection {
  name: string;
  token: ServiceIdentifier<unknown>;
  schema: z.ZodObject<ZodRawShape>;
}

/** Merges the parts by section name. */
export function mergeSections(parts: readonly ConfigSectionPart[]): ConfigSection[] {
  const byName = new Map<string, { token: ServiceIdentifier<unknown>; shape: ZodRawShape }>();
  for (const part of parts) {
    const entry = byName.get(part.name);
    if (!entry) {
      byName.set(part.name, { token: part.token, shape: { ...part.shape } });
      continue;
    }
    if (entry.token !== part.token) throw new Error(`config section \`${part.name}\` is bound to two tokens`);
    for (const key of Object.keys(part.shape)) {
      if (key in entry.shape) throw new Error(`config section \`${part.name}\`: field \`${key}\` is declared twice`);
    }
    Object.assign(entry.shape, part.shape);
  }
  return [...byName].map(([name, { token, shape }]) => ({ name, token, schema: z.object(shape).strict() }));
}
