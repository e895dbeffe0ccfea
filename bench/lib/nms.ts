import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
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

export function ensureNms(): void {
  if (existsSync(join(NMS_DIR, 'node_modules', 'node-media-server', 'package.json'))) return;
  mkdirSync(NMS_DIR, { recursive: true });
  if (!existsSync(join(NMS_DIR, 'package.json'))) writeFileSync(join(NMS_DIR, 'package.json'), '{ "name": "nms-bench", "private": true }\n');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const r = spawnSync(npm, ['install', '--prefix', NMS_DIR, '--no-audit', '--no-fund', '--loglevel=error', 'node-media-server@4.4.3'], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error('npm install node-media-server@4.4.3 failed');
}

/** Start it on the given loopback ports; resolves once its RTMP port accepts connections. */
export async function startNms(httpPort: number, rtmpPort: number, nodeArgs: string[] = []): Promise<ChildProcess> {
  ensureNms();
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
