// npm run build: type-check and emit declarations (tsc), bundle dist/portcullis.js (esbuild,
// readable ES module), then measure the bundle minified and gzipped and fail over the budget.
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

// bytes, minified + gzipped: 8 KB for the client, raised by 1 KB for end-to-end encryption (about 1.3 KB)
const BUDGET = 9 * 1024;
const root = fileURLToPath(new URL('..', import.meta.url));
process.chdir(root);

rmSync('dist', { recursive: true, force: true });
mkdirSync('dist');
execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json'], { stdio: 'inherit' });
writeFileSync('dist/portcullis.d.ts', "export * from './types/index.js';\n");

const common = { entryPoints: ['src/index.ts'], bundle: true, format: 'esm', target: 'es2022', platform: 'neutral', legalComments: 'none' };
await esbuild.build({ ...common, outfile: 'dist/portcullis.js' });
const minified = await esbuild.build({ ...common, minify: true, write: false });
const code = minified.outputFiles[0].contents;
const gzipped = gzipSync(code, { level: 9 }).length;

const kb = (n) => (n / 1024).toFixed(2) + ' KB';
console.log(`dist/portcullis.js: ${kb(code.length)} minified, ${kb(gzipped)} minified+gzipped (budget ${kb(BUDGET)})`);
if (gzipped > BUDGET) {
  console.error(`over the size budget by ${gzipped - BUDGET} bytes`);
  process.exit(1);
}
