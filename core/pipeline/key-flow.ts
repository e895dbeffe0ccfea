import type { PipelineSpec } from './config.js';
import { formatPath, type YamlPath } from './config.js';
import { globsMayTake } from './match.js';

/**
 * Components that read and write keyed streams through a shared place (the live registry) say so,
 * and the framework refuses a file whose pipelines would feed themselves, directly or round a
 * loop, without knowing what that place is:
 * - a source that reads keys has `readsKeys(options)`: the globs it takes;
 * - a sink that writes keys has `writesKeys(options, inputs)`: the key globs it writes, given the
 *   globs of the keys its pipeline reads (`**` for a source that does not read the registry).
 */
export interface KeyReader {
  readsKeys(options: any): readonly string[];
}
export interface KeyWriter {
  writesKeys(options: any, inputs: readonly string[]): readonly string[];
}

export interface KeyFlowProblem {
  path: YamlPath;
  message: string;
}

interface Node {
  pipeline: PipelineSpec;
  reads: readonly string[] | undefined;
  writes: { sink: string; path: YamlPath; keys: readonly string[] }[];
}

export function checkKeyFlow(pipelines: readonly PipelineSpec[]): KeyFlowProblem[] {
  const nodes: Node[] = pipelines.map((pipeline) => {
    const reader = pipeline.source.component as Partial<KeyReader>;
    const reads = reader.readsKeys?.(pipeline.source.options);
    const inputs = reads ?? ['**'];
    const writes = pipeline.sinks.flatMap((sink) => {
      const writer = sink.component as Partial<KeyWriter>;
      const keys = writer.writesKeys?.(sink.options, sink.match ?? inputs);
      return keys ? [{ sink: sink.component.type, path: sink.path, keys }] : [];
    });
    return { pipeline, reads, writes };
  });
  // An edge from A to B when something A writes would be read by B.
  const feeds = (a: Node, b: Node) => (b.reads ? a.writes.find((w) => w.keys.some((key) => globsMayTake(b.reads, key))) : undefined);
  const problems: KeyFlowProblem[] = [];
  for (const start of nodes) {
    if (!start.reads) continue;
    const loop = findLoop(start, nodes, feeds);
    if (!loop) continue;
    const steps = loop.map(({ from, write }) => `\`${from.pipeline.name}\` writes ${write.keys.map((k) => `\`${k}\``).join(', ')} (${formatPath(write.path)}, \`${write.sink}\`)`);
    const reads = start.reads.map((g) => `\`${g}\``).join(', ');
    problems.push({
      path: [...start.pipeline.source.path],
      message: `pipeline \`${start.pipeline.name}\` would read its own output: it reads ${reads} and ${steps.join(', then ')}, which it would read again. Exclude those keys from its \`match\` (e.g. "!live/*_480p") or write them under another app`,
    });
  }
  return problems;
}

type Step = { from: Node; write: Node['writes'][number] };

/** A path of edges from `start` back to itself, if any (each node visited once). */
function findLoop(start: Node, nodes: Node[], feeds: (a: Node, b: Node) => Node['writes'][number] | undefined): Step[] | undefined {
  const visited = new Set<Node>();
  const walk = (node: Node, path: Step[]): Step[] | undefined => {
    for (const next of nodes) {
      const write = feeds(node, next);
      if (!write) continue;
      const steps = [...path, { from: node, write }];
      if (next === start) return steps;
      if (visited.has(next)) continue;
      visited.add(next);
      const found = walk(next, steps);
      if (found) return found;
    }
    return undefined;
  };
  return walk(start, []);
}
