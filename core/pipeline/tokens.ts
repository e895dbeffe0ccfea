import type { ServiceIdentifier } from 'inversify';
import type { Component } from './component.js';

/** Multi-injection token: every component definition, built-in or plugin. */
export const COMPONENT: ServiceIdentifier<Component> = Symbol.for('wsflv.component');
