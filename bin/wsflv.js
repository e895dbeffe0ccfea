#!/usr/bin/env -S node --max-semi-space-size=8 --initial-old-space-size=64
// The server makes a lot of short-lived garbage and keeps little: a young generation capped at 16 MB
// (8 MB semi-spaces) costs no measurable CPU, while V8 would otherwise grow it to 32 MB after a burst
// of joins and keep it. The old generation starts at 64 MB: V8 sizes its limit from the live heap,
// which here is mostly code, so by default the limit sat 16 MB above it and 50 publishers set off a
// full collection twice a second (README, Benchmarks). `npm start` passes the same flags.
// The sources are TypeScript; tsx compiles them on load so `npx wsflv` needs no build step. The
// project's tsconfig is named explicitly: tsx would otherwise look in the caller's directory, and the
// decorators that inversify needs only compile with the project's settings.
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

register({ tsconfig: fileURLToPath(new URL('../tsconfig.json', import.meta.url)) });
const { main } = await import('../cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
