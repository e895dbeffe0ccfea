import { ContainerModule, type Newable } from 'inversify';
import type { Component } from './component.js';
import { isDefinition, type Definition } from './define.js';
import { COMPONENT } from './tokens.js';

/**
 * The one way components are registered, built-in or plugin: each class is bound to the COMPONENT
 * multi-injection token as a singleton, with its services injected by `@inject`; each
 * `defineStage`/`defineSource`/`defineSink` definition is built once from the services it names.
 */
export function componentModule(...components: (Newable<Component> | Definition<Component>)[]): ContainerModule {
  return new ContainerModule(({ bind }) => {
    for (const component of components) {
      if (isDefinition(component)) {
        const definition = component as Definition<Component>;
        bind(COMPONENT)
          .toDynamicValue((context) => {
            const services: Record<string, unknown> = {};
            for (const [name, token] of Object.entries(definition.inject)) services[name] = context.get(token);
            return definition.build(services);
          })
          .inSingletonScope();
      } else {
        bind(COMPONENT).to(component as Newable<Component>).inSingletonScope();
      }
    }
  });
}
