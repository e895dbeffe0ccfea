import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

test('every WSFLV_ERR_* code raised in the code is documented in docs/errors.md', (t) => {
  const doc = readFileSync('docs/errors.md', 'utf8');
  const codes = new Set<string>();
  for (const dir of ['core', 'sources', 'stages', 'sinks', 'cli']) {
    for (const file of sources(dir)) {
      for (const match of readFileSync(file, 'utf8').matchAll(/'(WSFLV_ERR_[A-Z0-9_]+)'/g)) codes.add(match[1]!);
    }
  }
  t.true(codes.size >= 10);
  const undocumented = [...codes].filter((code) => !doc.includes(`\`${code}\``));
  t.deepEqual(undocumented, []);
});
