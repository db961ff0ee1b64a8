// npm test: compile test/*.test.ts (and the sources they import) with esbuild into build/test,
// then run them with Node's built-in test runner. No browser, no gateway, no test framework.
import { spawnSync } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

process.chdir(fileURLToPath(new URL('..', import.meta.url)));
const only = process.argv.slice(2);
const tests = readdirSync('test').filter((f) => f.endsWith('.test.ts') && (!only.length || only.some((o) => f.includes(o))));
rmSync('build/test', { recursive: true, force: true });
await esbuild.build({
  entryPoints: tests.map((f) => 'test/' + f),
  outdir: 'build/test',
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  sourcemap: 'inline',
});
const files = tests.map((f) => 'build/test/' + f.replace(/\.ts$/, '.js'));
const run = spawnSync(process.execPath, ['--enable-source-maps', '--test', '--test-reporter=spec', ...files], { stdio: 'inherit' });
process.exit(run.status ?? 1);
