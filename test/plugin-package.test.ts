import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import test from 'ava';
import { tempDir } from './helpers/app.js';
import { runCli } from './helpers/cli.js';
import { demuxFile, FIXTURES } from './helpers/packets.js';

const exec = promisify(execFile);
const REPO = process.cwd();

/**
 * The example plugin package, copied out of the repository and installed against this package the
 * way a user would (`file:` dependency, offline: npm links the folder, nothing is downloaded).
 */
test('the example plugin package works when copied anywhere: its own test passes, and it loads by package name and by path', async (t) => {
  const root = tempDir('wsflv-plugin-package-');
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const plugin = join(root, 'strip-video');
  cpSync(join(REPO, 'examples/plugin-package'), plugin, { recursive: true, filter: (source) => !source.includes('node_modules') });
  const manifest = JSON.parse(readFileSync(join(plugin, 'package.json'), 'utf8'));
  manifest.devDependencies.wsflv = `file:${REPO}`;
  writeFileSync(join(plugin, 'package.json'), JSON.stringify(manifest, null, 2));
  const npm = ['install', '--no-audit', '--no-fund', '--offline', '--loglevel=error'];
  await exec('npm', npm, { cwd: plugin });
  const own = await exec('npm', ['test'], { cwd: plugin });
  t.regex(own.stdout, /# pass 3\b/);
  t.regex(own.stdout, /# fail 0\b/);

  // A host project with wsflv and the plugin installed side by side.
  const host = join(root, 'host');
  mkdirSync(host);
  writeFileSync(join(host, 'package.json'), JSON.stringify({ name: 'host', private: true, type: 'module', dependencies: { wsflv: `file:${REPO}`, 'wsflv-plugin-strip-video': `file:${plugin}` } }));
  await exec('npm', npm, { cwd: host });

  for (const [label, specifier] of [['package name', 'wsflv-plugin-strip-video'], ['path', '../strip-video/src/index.ts']] as const) {
    const output = join(host, `${label.replace(' ', '-')}.flv`);
    const file = join(host, `${label.replace(' ', '-')}.yaml`);
    writeFileSync(file, `plugins: [${specifier}]
pipelines:
  audio:
    source: { type: file, path: ${join(REPO, FIXTURES.h264Aac)} }
    stages: [flv-demux, { type: strip-video }]
    sinks: [{ type: file, path: ${output} }]
`);
    const validated = await runCli(['validate', file]);
    t.is(validated.code, 0, `${label}: ${validated.stderr}`);
    const ran = await runCli(['run', file]);
    t.is(ran.code, 0, `${label}: ${ran.stderr}`);
    const packets = demuxFile(output);
    t.true(packets.some((p) => p.kind === 'audio'), label);
    t.false(packets.some((p) => p.kind === 'video'), `${label}: video was stripped`);
  }
});

/**
 * A plugin written as a decorated class, as a `.ts` file in an ES-module folder of its own outside
 * the repository, importing only `wsflv/plugin`: the loader compiles it with its own decorator
 * options, whatever that folder's tsconfig says (it has none here).
 */
test('a decorated class plugin in a "type": "module" folder outside the repository loads and runs', async (t) => {
  const host = tempDir('wsflv-plugin-class-');
  t.teardown(() => rmSync(host, { recursive: true, force: true }));
  writeFileSync(join(host, 'package.json'), JSON.stringify({ name: 'host', private: true, type: 'module', dependencies: { wsflv: `file:${REPO}` } }));
  await exec('npm', ['install', '--no-audit', '--no-fund', '--offline', '--loglevel=error'], { cwd: host });
  mkdirSync(join(host, 'plugins'));
  writeFileSync(join(host, 'plugins', 'count-audio.ts'), `import { componentModule, inject, injectable, LOGGER, MEDIA_PACKETS, rxjs, z, type Logger, type MediaPacket, type StageComponent, type StreamContext } from 'wsflv/plugin';

@injectable()
class CountAudio implements StageComponent<{ every: number }> {
  readonly role = 'stage';
  readonly type = 'count-audio';
  readonly description = 'logs how many audio packets passed';
  readonly consumes = MEDIA_PACKETS;
  readonly produces = MEDIA_PACKETS;
  readonly options = z.object({ every: z.number().int().min(1).default(1) }).strict();
  constructor(@inject(LOGGER) private readonly logger: Logger) {}
  create() {
    return (ctx: StreamContext) => {
      let audio = 0;
      return rxjs.pipe(
        rxjs.tap((p: MediaPacket) => { if (p.kind === 'audio') audio++; }),
        rxjs.finalize(() => this.logger.warn({ audio, stream: ctx.key }, 'audio counted')),
      );
    };
  }
}

export default componentModule(CountAudio);
`);
  const output = join(host, 'out.flv');
  const file = join(host, 'pipeline.yaml');
  writeFileSync(file, `plugins: [./plugins/count-audio.ts]
pipelines:
  p:
    source: { type: file, path: ${join(REPO, FIXTURES.h264Aac)} }
    stages: [flv-demux, count-audio]
    sinks: [{ type: file, path: ${output} }]
`);
  const validated = await runCli(['validate', file]);
  t.is(validated.code, 0, validated.stderr);
  const ran = await runCli(['run', file]);
  t.is(ran.code, 0, ran.stderr);
  const audio = demuxFile(FIXTURES.h264Aac).filter((p) => p.kind === 'audio').length;
  t.regex(ran.stderr + ran.stdout, new RegExp(`"audio":${audio}\\b`));
});
