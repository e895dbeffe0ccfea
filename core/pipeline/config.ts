import { readFile } from 'node:fs/promises';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, Scalar, visit, type Document, type Node } from 'yaml';
import { z, type ZodIssue, type ZodTypeAny } from 'zod';
import { WsflvError } from '../errors.js';
import type { Component, Role, SinkComponent, SourceComponent, StageComponent } from './component.js';
import { findMalformedReference, interpolate, protectReferences, restoreReferences } from './interpolate.js';
import { describeKind, type DataKind } from './kinds.js';
import { checkKeyFlow } from './key-flow.js';
import type { ConfigSection } from './section.js';
import { matchOption } from './match.js';
import { nearestName, type ComponentRegistry } from './registry.js';

export type YamlPath = (string | number)[];

/** One problem in a pipeline file, located precisely enough for an editor to jump to it. */
export interface Diagnostic {
  file: string;
  line: number;
  col: number;
  /** Dotted YAML path, e.g. `pipelines.live.stages[1].mode`. */
  path: string;
  message: string;
}

export function formatDiagnostic(d: Diagnostic): string {
  return `${d.file}:${d.line}:${d.col}: ${d.message}${d.path ? ` (at ${d.path})` : ''}`;
}

/** The pipeline file cannot be used; `diagnostics` lists every problem found, in file order. */
export class ConfigError extends WsflvError {
  readonly diagnostics: Diagnostic[];
  constructor(diagnostics: Diagnostic[]) {
    super('WSFLV_ERR_CONFIG', diagnostics.map(formatDiagnostic).join('\n'));
    this.diagnostics = diagnostics;
  }
}

export interface ComponentUse<C extends Component> {
  component: C;
  options: any;
  path: YamlPath;
  /**
   * Tells two uses of one type apart in logs, metrics (`id` label) and the API: the `id:` written in
   * the file, or the use's place in it (`live.sinks[1]`). Unique within the file.
   */
  id: string;
}

export interface SinkUse extends ComponentUse<SinkComponent> {
  /** Stages applied on this sink's branch only, after the pipeline's shared chain. */
  stages: ComponentUse<StageComponent>[];
  /** `match:` globs over the stream key: a stream that matches none skips this sink. Absent: every stream. */
  match?: string[];
}

export interface PipelineSpec {
  name: string;
  source: ComponentUse<SourceComponent>;
  stages: ComponentUse<StageComponent>[];
  sinks: SinkUse[];
}

export interface PipelineConfig {
  file: string;
  /** Each section's validated value, by its top-level name (the services get theirs by token). */
  sections: ReadonlyMap<string, unknown>;
  pipelines: PipelineSpec[];
}

/** A YAML file parsed and interpolated, before components are resolved (plugins load in between). */
export class ParsedConfigFile {
  readonly diagnostics: Diagnostic[] = [];
  readonly #doc: Document;
  readonly #lines: LineCounter;
  readonly #value: unknown;
  readonly #references: string[];

  constructor(
    readonly file: string,
    text: string,
    env: Record<string, string | undefined> = process.env,
  ) {
    this.#lines = new LineCounter();
    const { text: parseable, references } = protectReferences(text);
    this.#references = references;
    this.#doc = parseDocument(parseable, { lineCounter: this.#lines, prettyErrors: false, uniqueKeys: true });
    for (const error of this.#doc.errors) {
      const [line, col] = this.#position(error.pos[0]);
      this.diagnostics.push({ file, line, col, path: '', message: `YAML syntax: ${error.message.split('\n')[0]}` });
    }
    if (this.diagnostics.length === 0) this.#interpolate(env);
    this.#value = this.diagnostics.length === 0 ? this.#doc.toJS() : undefined;
  }

  static async read(file: string, env?: Record<string, string | undefined>): Promise<ParsedConfigFile> {
    return new ParsedConfigFile(file, await readFile(file, 'utf8'), env);
  }

  get value(): unknown {
    return this.#value;
  }

  /** Plugin specifiers listed under `plugins:` (validated lightly: they are needed before the rest). */
  get plugins(): string[] {
    const value = this.#value as { plugins?: unknown } | undefined;
    if (!value || !Array.isArray(value.plugins)) return [];
    return value.plugins.filter((p): p is string => typeof p === 'string');
  }

  readonly #sections = new Map<string, unknown>();

  /**
   * A section's validated value (its defaults when the file has none). Available before components
   * are resolved, because the services components depend on (the listener) are configured from it.
   * Problems are reported once, with the rest of the file's; the defaults stand in meanwhile.
   */
  section(section: ConfigSection): unknown {
    if (!this.#sections.has(section.name)) {
      const raw = (this.#value as Record<string, unknown> | undefined)?.[section.name] ?? {};
      const result = section.schema.safeParse(raw);
      if (!result.success) reportIssues(this, [section.name], result.error.issues, section.name, section.schema);
      this.#sections.set(section.name, result.success ? result.data : section.schema.parse({}));
    }
    return this.#sections.get(section.name);
  }

  /** Every section read so far, by name. */
  get sections(): ReadonlyMap<string, unknown> {
    return this.#sections;
  }

  report(path: YamlPath, message: string, { atKey = false } = {}): void {
    const offset = this.#offsetOf(path, atKey);
    const [line, col] = this.#position(offset);
    this.diagnostics.push({ file: this.file, line, col, path: formatPath(path), message });
  }

  #interpolate(env: Record<string, string | undefined>): void {
    visit(this.#doc, {
      Scalar: (_key, node) => {
        if (typeof node.value !== 'string') return;
        const original = restoreReferences(node.value, this.#references);
        node.value = original;
        if (!original.includes('$')) return;
        const malformed = findMalformedReference(original);
        if (malformed) {
          this.#reportNode(node, `malformed variable reference \`${malformed}\`: use \${NAME}, \${NAME:-default}, or $\${ for a literal \${`);
          return;
        }
        const { value, missing } = interpolate(original, env);
        for (const name of missing) {
          this.#reportNode(node, `environment variable ${name} is not set and has no default (write \${${name}:-default} to give one)`);
        }
        node.value = node.type === Scalar.PLAIN ? plainScalarValue(value) : value;
      },
    });
  }

  #reportNode(node: Node, message: string): void {
    const [line, col] = this.#position(node.range?.[0] ?? 0);
    this.diagnostics.push({ file: this.file, line, col, path: '', message });
  }

  #position(offset: number): [number, number] {
    const { line, col } = this.#lines.linePos(offset);
    return [line, col];
  }

  /** Offset of the deepest node that exists along `path`: the key itself for unknown-key errors. */
  #offsetOf(path: YamlPath, atKey: boolean): number {
    let node: unknown = this.#doc.contents;
    let offset = (node as Node | null)?.range?.[0] ?? 0;
    for (let i = 0; i < path.length; i++) {
      const segment = path[i]!;
      if (isMap(node)) {
        const pair = node.items.find((item) => (isScalar(item.key) ? item.key.value : item.key) === segment);
        if (!pair) break;
        const last = i === path.length - 1;
        if (last && atKey && isScalar(pair.key)) return pair.key.range?.[0] ?? offset;
        node = pair.value;
        offset = (pair.value as Node | null)?.range?.[0] ?? (pair.key as Node | null)?.range?.[0] ?? offset;
      } else if (isSeq(node) && typeof segment === 'number') {
        node = node.items[segment];
        if (!node) break;
        offset = (node as Node).range?.[0] ?? offset;
      } else {
        break;
      }
    }
    return offset;
  }
}

/** An interpolated plain scalar is typed the way YAML would type it (`${PORT:-8080}` is a number). */
function plainScalarValue(text: string): unknown {
  if (/^-?\d+(\.\d+)?$/.test(text)) return Number(text);
  if (text === 'true' || text === 'false') return text === 'true';
  if (text === '' || text === 'null' || text === '~') return null;
  return text;
}

export function formatPath(path: YamlPath): string {
  return path.reduce<string>((out, segment) => (typeof segment === 'number' ? `${out}[${segment}]` : out ? `${out}.${segment}` : segment), '');
}

const componentRef = z.union([z.string(), z.object({ type: z.string() }).passthrough()]);
/** The file's top level: plugins, pipelines, and the sections the loaded modules own. */
const topLevelSchema = (sections: readonly string[]) => z
  .object({
    ...Object.fromEntries(sections.map((name) => [name, z.unknown().optional()])),
    plugins: z.array(z.string()).optional(),
    pipelines: z.record(
      z
        .object({
          source: componentRef,
          stages: z.array(componentRef).optional(),
          sinks: z.array(componentRef).min(1, 'a pipeline needs at least one sink'),
        })
        .strict(),
    ),
  })
  .strict();

/**
 * Resolves every component against the registry, validates each one's options with its own schema,
 * checks that each link carries the kind of data its consumer expects, then runs the components' own
 * whole-file checks (`check`). Everything is reported in one round: a component whose options are
 * wrong is still wired and checked, so a file's option and wiring problems come out together.
 */
export function resolveConfig(parsed: ParsedConfigFile, registry: ComponentRegistry, sections: readonly ConfigSection[] = []): PipelineConfig {
  if (parsed.diagnostics.length > 0) throw new ConfigError(parsed.diagnostics);
  const schema = topLevelSchema(sections.map((s) => s.name));
  const top = schema.safeParse(parsed.value ?? {});
  if (!top.success) {
    reportIssues(parsed, [], top.error.issues, 'pipeline file', schema);
    throw new ConfigError(sortDiagnostics(parsed.diagnostics));
  }
  if (Object.keys(top.data.pipelines).length === 0) parsed.report(['pipelines'], 'no pipelines are defined');
  for (const section of sections) parsed.section(section);

  const pipelines: PipelineSpec[] = [];
  let complete = true;
  for (const [name, raw] of Object.entries(top.data.pipelines)) {
    const base: YamlPath = ['pipelines', name];
    const source = resolveComponent(parsed, registry, 'source', raw.source, [...base, 'source']);
    const stages = (raw.stages ?? []).map((ref, i) => resolveComponent(parsed, registry, 'stage', ref, [...base, 'stages', i]));
    const sinks = raw.sinks.map((ref, i): SinkUse | undefined => {
      const path = [...base, 'sinks', i];
      const { stages: branch, match, ...rest } = typeof ref === 'string' ? { stages: undefined, match: undefined } : (ref as { stages?: unknown; match?: unknown });
      const sink = resolveComponent(parsed, registry, 'sink', typeof ref === 'string' ? ref : rest, path);
      let globs: string[] | undefined;
      if (match !== undefined) {
        const result = matchOption.safeParse(match);
        if (result.success) globs = result.data;
        else parsed.report([...path, 'match'], `\`match\` of sink \`${sink?.component.type ?? '?'}\`: ${result.error.issues[0]?.message ?? 'invalid'}`);
      }
      if (branch !== undefined && !Array.isArray(branch)) {
        parsed.report([...path, 'stages'], 'a sink\'s `stages` must be a list of stages');
        return undefined;
      }
      const branchStages = ((branch as unknown[] | undefined) ?? []).map((s, j) => resolveComponent(parsed, registry, 'stage', s, [...path, 'stages', j]));
      if (!sink || branchStages.some((s) => !s)) return undefined;
      return { ...sink, stages: branchStages as ComponentUse<StageComponent>[], ...(globs ? { match: globs } : {}) };
    });
    // Wire what resolved even when something did not: every problem of the file in one round.
    checkWiring(parsed, registry, source, stages, sinks);
    const uses = [source, ...stages, ...sinks.flatMap((s) => [s, ...(s?.stages ?? [])])];
    if (uses.some((use) => !use || (use as { invalid?: true }).invalid)) {
      complete = false;
      continue;
    }
    pipelines.push({ name, source: source!, stages: stages as ComponentUse<StageComponent>[], sinks: sinks as SinkUse[] });
  }
  checkIds(parsed, pipelines);
  // Whole-file checks need every pipeline: they run when all resolved, still in the same round.
  if (complete) {
    runComponentChecks(parsed, pipelines);
    for (const problem of checkKeyFlow(pipelines)) parsed.report(problem.path, problem.message);
  }
  if (parsed.diagnostics.length > 0) throw new ConfigError(sortDiagnostics(parsed.diagnostics));
  return { file: parsed.file, sections: parsed.sections, pipelines };
}

function resolveComponent<R extends Role>(
  parsed: ParsedConfigFile,
  registry: ComponentRegistry,
  role: R,
  ref: unknown,
  path: YamlPath,
): (ComponentUse<any> & { invalid?: true }) | undefined {
  const isBare = typeof ref === 'string';
  const { type, id, ...options } = isBare ? { type: ref, id: undefined } : (ref as { type: string; id?: unknown });
  const typePath = isBare ? path : [...path, 'type'];
  if (typeof type !== 'string') {
    parsed.report(path, `a ${role} needs a \`type\``);
    return undefined;
  }
  const component = registry.get(role, type);
  if (!component) {
    const hint = registry.suggest(role, type);
    const elsewhere = (['source', 'stage', 'sink'] as const).find((r) => r !== role && registry.get(r, type));
    const advice = hint ? `; did you mean \`${hint}\`?` : elsewhere ? `; \`${type}\` is a ${elsewhere}, not a ${role}` : '';
    const known = registry.list(role).map((c) => c.type).sort().join(', ');
    parsed.report(typePath, `unknown ${role} type \`${type}\`${advice} (known: ${known})`);
    return undefined;
  }
  if (id !== undefined && (typeof id !== 'string' || !ID.test(id))) {
    parsed.report([...path, 'id'], `\`id\` of ${role} \`${type}\` must be a name of A-Z a-z 0-9 _ . - (1 to 64 characters)`);
  }
  const result = component.options.safeParse(options);
  if (!result.success) {
    reportIssues(parsed, path, result.error.issues, `${role} \`${type}\``, component.options as ZodTypeAny);
    return { component, options: undefined, path, id: '', invalid: true };
  }
  return { component, options: result.data, path, id: typeof id === 'string' ? id : formatPath(path.slice(1)) };
}

const ID = /^[A-Za-z0-9_.-]{1,64}$/;

/** Ids are how logs, metrics and the API tell uses apart: two alike would be told apart by nothing. */
function checkIds(parsed: ParsedConfigFile, pipelines: PipelineSpec[]): void {
  const seen = new Map<string, YamlPath>();
  for (const pipeline of pipelines) {
    for (const use of [pipeline.source, ...pipeline.stages, ...pipeline.sinks.flatMap((s) => [s, ...s.stages])]) {
      const first = seen.get(use.id);
      if (first) parsed.report([...use.path, 'id'], `id \`${use.id}\` is already used at ${formatPath(first)}: ids are unique in a file`);
      else seen.set(use.id, use.path);
    }
  }
}

function runComponentChecks(parsed: ParsedConfigFile, pipelines: PipelineSpec[]): void {
  for (const pipeline of pipelines) {
    const uses = [pipeline.source, ...pipeline.stages, ...pipeline.sinks.flatMap((s) => [s, ...s.stages])];
    for (const use of uses) {
      for (const problem of use.component.check?.(use, pipeline, pipelines) ?? []) {
        parsed.report(problem.path ?? use.path, problem.message);
      }
    }
  }
}

function reportIssues(parsed: ParsedConfigFile, base: YamlPath, issues: ZodIssue[], subject: string, schema: ZodTypeAny): void {
  for (const issue of issues) {
    const path = [...base, ...issue.path];
    const name = issue.path.length > 0 ? `\`${formatPath(issue.path)}\`` : subject;
    switch (issue.code) {
      case 'unrecognized_keys':
        for (const key of issue.keys) {
          const known = objectKeys(schema, issue.path);
          const hint = nearestName(key, known);
          const advice = hint ? `; did you mean \`${hint}\`?` : known.length ? ` (known: ${known.join(', ')})` : '';
          parsed.report([...path, key], `unknown option \`${key}\` for ${subject}${advice}`, { atKey: true });
        }
        break;
      case 'invalid_type':
        if (issue.received === 'undefined') parsed.report(path, `missing required option ${name} for ${subject}`, { atKey: true });
        else parsed.report(path, `${name} of ${subject} must be ${article(issue.expected)}, not ${article(issue.received)}`);
        break;
      case 'invalid_union':
        parsed.report(path, `${name} of ${subject} must be a component name or a map with a \`type\``);
        break;
      default:
        parsed.report(path, `${name} of ${subject}: ${issue.message}`);
    }
  }
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

/** Option names an object schema accepts at `path`, for "did you mean" hints. */
function objectKeys(schema: ZodTypeAny, path: (string | number)[]): string[] {
  let current: ZodTypeAny | undefined = schema;
  for (const segment of [...path, undefined]) {
    while (current && !(current instanceof z.ZodObject)) {
      const def: any = current._def;
      current = def.innerType ?? def.schema ?? def.in ?? undefined;
    }
    if (!current) return [];
    if (segment === undefined) return Object.keys(current.shape);
    current = current.shape[segment] as ZodTypeAny | undefined;
  }
  return [];
}

type Resolved<C extends Component> = (ComponentUse<C> & { invalid?: true }) | undefined;

function checkWiring(
  parsed: ParsedConfigFile,
  registry: ComponentRegistry,
  source: Resolved<SourceComponent>,
  stages: Resolved<StageComponent>[],
  sinks: (SinkUse | undefined)[],
): void {
  // An unknown component has no kinds: links next to it are not judged (its own error says enough).
  type Producer = { label: string; kind: DataKind } | undefined;
  const link = (producer: Producer, use: ComponentUse<StageComponent | SinkComponent>, role: 'stage' | 'sink') => {
    const consumes = use.component.consumes;
    if (producer && consumes !== producer.kind) {
      const bridge = registry.list('stage').find((s) => s.consumes === producer.kind && s.produces === consumes);
      const advice = bridge ? `: add \`${bridge.type}\` before it` : `: no stage converts ${describeKind(producer.kind)} to ${describeKind(consumes)}`;
      parsed.report(use.path, `${role} \`${use.component.type}\` consumes ${describeKind(consumes)} but ${producer.label} produces ${describeKind(producer.kind)}${advice}`);
    }
  };
  const after = (stage: Resolved<StageComponent>): Producer => (stage ? { label: `stage \`${stage.component.type}\``, kind: stage.component.produces } : undefined);
  let producer: Producer = source ? { label: `source \`${source.component.type}\``, kind: source.component.produces } : undefined;
  for (const stage of stages) {
    if (stage) link(producer, stage, 'stage');
    producer = after(stage);
  }
  const trunk = producer;
  for (const sink of sinks) {
    if (!sink) continue;
    producer = trunk;
    for (const stage of sink.stages) {
      link(producer, stage, 'stage');
      producer = after(stage);
    }
    link(producer, sink, 'sink');
  }
}

function sortDiagnostics(diagnostics: Diagnostic[]): Diagnostic[] {
  return [...diagnostics].sort((a, b) => a.line - b.line || a.col - b.col);
}
