import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * node-media-server 4.x, our peer, installed on first use into bench/.cache/nms (never a project
 * dependency) and run as a child process on loopback: benchmarks measure against it, tests use it as
 * a real remote RTMP and HTTP-FLV server.
 */
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const NMS_DIR = join(ROOT, 'bench', '.cache', 'nms');

const installed = (dir: string) => existsSync(join(dir, 'node_modules', 'node-media-server', 'package.json'));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function npmInstall(prefix: string): Promise<boolean> {
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  return new Promise((resolve) => {
    const c = spawn(npm, ['install', '--prefix', prefix, '--no-audit', '--no-fund', '--loglevel=error', 'node-media-server@4.4.3'], { stdio: ['ignore', 'inherit', 'inherit'] });
    c.once('error', () => resolve(false));
    c.once('close', (code) => resolve(code === 0));
  });
}

/**
 * Installs it once, safely when several test processes ask at the same moment: one takes a lock (an
 * atomic mkdir) and installs into a private folder renamed into place when complete; the others wait
 * for it. Without that, a second `npm install` rewrites the folder under a server already running.
 * Asynchronous, so a test's own servers and timers keep running while npm works.
 */
export async function ensureNms(): Promise<void> {
  if (installed(NMS_DIR)) return;
  const lock = `${NMS_DIR}.lock`;
  mkdirSync(dirname(NMS_DIR), { recursive: true });
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (installed(NMS_DIR)) return;
      // A lock left by an install that was killed: older than any install takes.
      const since = statSync(lock, { throwIfNoEntry: false })?.mtimeMs;
      if (since !== undefined && Date.now() - since > 150_000) rmSync(lock, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`node-media-server: still locked by another install (${lock})`);
      await sleep(200);
    }
  }
  try {
    if (installed(NMS_DIR)) return;
    const staging = `${NMS_DIR}.install-${process.pid}`;
    rmSync(staging, { recursive: true, force: true });
    mkdirSync(staging, { recursive: true });
    writeFileSync(join(staging, 'package.json'), '{ "name": "nms-bench", "private": true }\n');
    if (!(await npmInstall(staging)) || !installed(staging)) {
      rmSync(staging, { recursive: true, force: true });
      throw new Error('npm install node-media-server@4.4.3 failed');
    }
    rmSync(NMS_DIR, { recursive: true, force: true });
    renameSync(staging, NMS_DIR);
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** Start it on the given loopback ports; resolves once its RTMP port accepts connections. */
export async function startNms(httpPort: number, rtmpPort: number, nodeArgs: string[] = []): Promise<ChildProcess> {
  await ensureNms();
  const data = mkdtempSync(join(tmpdir(), 'wsflv-nms-'));
  const child = spawn(process.execPath, [...nodeArgs, join(ROOT, 'bench', 'lib', 'nms-server.cjs'), NMS_DIR, String(httpPort), data, String(rtmpPort)], { cwd: NMS_DIR, stdio: 'ignore' });
  const { connect } = await import('node:net');
  const deadline = Date.now() + 15_000;
  for (let attempt = 0; attempt < 300 && Date.now() < deadline; attempt++) {
    const up = await new Promise<boolean>((resolve) => {
      const socket = connect(rtmpPort, '127.0.0.1', () => {
        socket.destroy();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (up) return child;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  child.kill('SIGKILL');
  throw new Error('node-media-server did not start listening');
}
