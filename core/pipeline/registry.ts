import type { Component, Role, SinkComponent, SourceComponent, StageComponent } from './component.js';
import { WsflvError } from '../errors.js';

type ByRole = { source: SourceComponent; stage: StageComponent; sink: SinkComponent };

/** Two components of the same role claim one YAML name: a plugin may add names, never shadow them. */
export class DuplicateComponentError extends WsflvError {
  constructor(role: Role, type: string) {
    super('WSFLV_ERR_DUPLICATE_COMPONENT', `two ${role} components are registered as \`${type}\``);
  }
}

/** Looks components up by role and YAML name; suggests the nearest name for a typo. */
export class ComponentRegistry {
  readonly #byRole = new Map<Role, Map<string, Component>>();

  constructor(components: Iterable<Component>) {
    for (const role of ['source', 'stage', 'sink'] as const) this.#byRole.set(role, new Map());
    for (const component of components) {
      const names = this.#byRole.get(component.role)!;
      if (names.has(component.type)) throw new DuplicateComponentError(component.role, component.type);
      names.set(component.type, component);
    }
  }

  get<R extends Role>(role: R, type: string): ByRole[R] | undefined {
    return this.#byRole.get(role)!.get(type) as ByRole[R] | undefined;
  }

  list<R extends Role>(role: R): ByRole[R][] {
    return [...this.#byRole.get(role)!.values()] as ByRole[R][];
  }

  /** The registered name closest to `type`, if it is close enough to be a plausible typo. */
  suggest(role: Role, type: string): string | undefined {
    return nearestName(type, [...this.#byRole.get(role)!.keys()]);
  }
}

export function nearestName(input: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = editDistance(input.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  const tolerance = Math.max(2, Math.floor(input.length / 3));
  return bestDistance <= tolerance ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution);
    }
    previous = current;
  }
  return previous[b.length]!;
}
