// `node --import wsflv/register …`: compiles TypeScript (plugin sources and their tests) with the
// settings wsflv loads plugins with, so a plugin package needs no TypeScript toolchain of its own.
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

register({ tsconfig: fileURLToPath(new URL('./plugin.tsconfig.json', import.meta.url)) });
