/**
 * CPU profiles of a server under test over the measured window only, taken through the V8 inspector
 * the server was started with (`--inspect=127.0.0.1:PORT`), and a text summary of where the time went.
 * Profiling costs CPU itself, so `bench:fanout --profile` is for finding bottlenecks, not for figures.
 */
import { writeFileSync } from 'node:fs';
import { WebSocket } from 'ws';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface Profiler {
  stop(file: string): Promise<CpuProfile>;
}

/** A session with the V8 inspector of a server under test (`--inspect=127.0.0.1:PORT`). */
interface Inspector {
  call(method: string, params?: Record<string, unknown>): Promise<unknown>;
  close(): void;
}

async function connectInspector(port: number): Promise<Inspector> {
  const targets = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as { webSocketDebuggerUrl: string }[];
  const url = targets[0]?.webSocketDebuggerUrl;
  if (!url) throw new Error(`no inspector target on 127.0.0.1:${port}`);
  const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 1024 * 1024 * 1024 });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  let nextId = 1;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  ws.on('message', (data: Buffer) => {
    const message = JSON.parse(data.toString()) as { id?: number; result?: unknown; error?: { message: string } };
    if (message.id === undefined) return;
    const waiter = pending.get(message.id);
    pending.delete(message.id);
    if (message.error) waiter?.reject(new Error(message.error.message));
    else waiter?.resolve(message.result);
  });
  return {
    call: (method, params = {}) =>
      new Promise<unknown>((resolve, reject) => {
        const id = nextId++;
        pending.set(id, { resolve, reject });
        ws.send(JSON.stringify({ id, method, params }));
        setTimeout(() => {
          if (pending.delete(id)) reject(new Error(`inspector: ${method} timed out`));
        }, 30_000).unref();
      }),
    close: () => ws.close(),
  };
}

/** Connect to the inspector on `port` (127.0.0.1) and start sampling every `intervalUs`. */
export async function startProfiler(port: number, intervalUs = 200): Promise<Profiler> {
  const inspector = await connectInspector(port);
  await inspector.call('Profiler.enable');
  await inspector.call('Profiler.setSamplingInterval', { interval: intervalUs });
  await inspector.call('Profiler.start');
  return {
    async stop(file) {
      const { profile } = (await inspector.call('Profiler.stop')) as { profile: CpuProfile };
      inspector.close();
      writeFileSync(file, JSON.stringify(profile));
      return profile;
    },
  };
}

interface HeapNode {
  callFrame: CallFrame;
  selfSize: number;
  children: HeapNode[];
}

export interface AllocationSummary {
  /** Bytes allocated on the JS heap over the window (the sampler's estimate, collected objects included). */
  bytes: number;
  seconds: number;
  /** Where they were allocated: function and file, bytes, heaviest first. */
  top: { at: string; bytes: number }[];
}

export interface AllocationSampler {
  stop(): Promise<AllocationSummary>;
}

/**
 * Sample every allocation on the server's JS heap, including objects already collected (young and
 * old), so the total is what the server allocated over the window rather than what is still alive:
 * the garbage a send path makes. One sample per `intervalBytes` allocated on average; V8 scales each
 * sample to the bytes it stands for.
 */
export async function startAllocationSampler(port: number, root: string, intervalBytes = 16 * 1024): Promise<AllocationSampler> {
  const inspector = await connectInspector(port);
  await inspector.call('HeapProfiler.enable');
  await inspector.call('HeapProfiler.startSampling', {
    samplingInterval: intervalBytes,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
  const started = performance.now();
  return {
    async stop() {
      const { profile } = (await inspector.call('HeapProfiler.stopSampling')) as { profile: { head: HeapNode } };
      const seconds = (performance.now() - started) / 1000;
      inspector.close();
      const by = new Map<string, number>();
      let bytes = 0;
      // Built-ins (Map, an iterator's next) are named with their caller: the allocation is the caller's doing.
      const walk = (node: HeapNode, caller: string) => {
        const label = frameLabel(node.callFrame, root);
        const key = node.callFrame.url === '' && caller ? `${label} ← ${caller}` : label;
        if (node.selfSize > 0) {
          bytes += node.selfSize;
          by.set(key, (by.get(key) ?? 0) + node.selfSize);
        }
        for (const child of node.children) walk(child, node.callFrame.url === '' ? caller : label);
      };
      walk(profile.head, '');
      const top = [...by].sort((a, b) => b[1] - a[1]).slice(0, 12).map(([at, n]) => ({ at, bytes: n }));
      return { bytes, seconds, top };
    },
  };
}

function frameLabel(f: CallFrame, root: string): string {
  const where = f.url.startsWith('file://') ? f.url.slice(7) : f.url;
  const short = where.startsWith(root) ? where.slice(root.length + 1) : where.replace(/^.*node_modules\//, '');
  // Code compiled on load (tsx) reports line 0: the file and function name are what is left.
  return `${f.functionName || '(anonymous)'} ${short}${short && f.lineNumber > 0 ? `:${f.lineNumber + 1}` : ''}`.trim();
}

/** Where a profile's time went: self time by function, inclusive time by function, time by source. */
export function summarizeProfile(profile: CpuProfile, root: string, top = 20): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

  const label = (f: CallFrame) => frameLabel(f, root);
  const source = (f: CallFrame) => {
    const u = f.url;
    if (!u) return f.functionName.startsWith('(') ? f.functionName : '(native)';
    if (u.startsWith('node:')) return u.replace(/^node:internal\//, 'node:').split('/').slice(0, 2).join('/');
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(u);
    if (m) return m[1]!;
    const p = u.startsWith('file://') ? u.slice(7) : u;
    return p.startsWith(root) ? p.slice(root.length + 1) : p;
  };

  let total = 0;
  let idle = 0;
  const selfBy = new Map<string, number>();
  const sourceBy = new Map<string, number>();
  const inclusiveBy = new Map<string, number>();
  for (const [id, us] of self) {
    const node = byId.get(id)!;
    total += us;
    if (node.callFrame.functionName === '(idle)') {
      idle += us;
      continue;
    }
    const key = label(node.callFrame);
    selfBy.set(key, (selfBy.get(key) ?? 0) + us);
    const src = source(node.callFrame);
    sourceBy.set(src, (sourceBy.get(src) ?? 0) + us);
    // Inclusive: once per distinct function on the stack.
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const k = label(byId.get(at)!.callFrame);
      if (seen.has(k)) continue;
      seen.add(k);
      inclusiveBy.set(k, (inclusiveBy.get(k) ?? 0) + us);
    }
  }
  const busy = total - idle;
  const pct = (us: number) => `${((100 * us) / busy).toFixed(1).padStart(5)} %`;
  const list = (m: Map<string, number>, n: number, filter: (k: string) => boolean = () => true) =>
    [...m]
      .filter(([k]) => filter(k))
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, us]) => `    ${pct(us)}  ${k}`)
      .join('\n');
  const windowS = (profile.endTime - profile.startTime) / 1e6;
  return [
    `  profile: ${windowS.toFixed(1)} s, busy ${(busy / 1e6).toFixed(2)} s on the main thread (${((100 * busy) / (profile.endTime - profile.startTime)).toFixed(0)} % of one core); shares of busy time:`,
    '  self time by source:',
    list(sourceBy, 12),
    '  self time by function:',
    list(selfBy, top),
    '  inclusive time, project functions:',
    list(inclusiveBy, top, (k) => / (core|sources|sinks|stages|cli|bench)\//.test(k)),
  ].join('\n');
}
