import { ContainerModule, type Newable } from 'inversify';
import type { Component } from './component.js';
import { COMPONENT } from './tokens.js';

/**
 * The one way components are registered, built-in or plugin: each class is bound to the COMPONENT
 * multi-injection token as a singleton, with its services injected by `@inject`.
 */
export function componentModule(...components: Newable<Component>[]): ContainerModule {
  return new ContainerModule(({ bind }) => {
    for (const component of components) bind(COMPONENT).to(component).inSingletonScope();
  });
}
