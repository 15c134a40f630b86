#!/usr/bin/env node
// `npx guest-sync <command>`: the operator CLI. The source is TypeScript (cli/main.ts), run through
// tsx, which `npm ci` installs, so a clean clone needs no build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../cli/main.ts');
process.exitCode = await main(process.argv);
