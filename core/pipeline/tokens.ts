import type { ServiceIdentifier } from 'inversify';
import type { Component } from './component.js';

/** Multi-injection token: every component definition, built-in or plugin. */
export const COMPONENT: ServiceIdentifier<Component> = Symbol.for('wsflv.component');

/** What runs, for the API: each pipeline's components by id, and its streams now. */
export interface PipelineOverview {
  name: string;
  source: ComponentOverview;
  stages: ComponentOverview[];
  sinks: (ComponentOverview & { match?: readonly string[]; stages: ComponentOverview[] })[];
  streams: string[];
}

export interface ComponentOverview {
  id: string;
  type: string;
}

/** Bound by the app once its pipelines are built: `list()` is their overview at the time of the call. */
export const PIPELINES: ServiceIdentifier<{ list(): PipelineOverview[] }> = Symbol.for('wsflv.pipelines');
