#!/usr/bin/env node
// The sources are TypeScript; tsx compiles them on load so `npx wsflv` needs no build step. The
// project's tsconfig is named explicitly: tsx would otherwise look in the caller's directory, and the
// decorators that inversify needs only compile with the project's settings.
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

register({ tsconfig: fileURLToPath(new URL('../tsconfig.json', import.meta.url)) });
const { main } = await import('../cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
