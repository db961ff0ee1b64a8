// The Grafana dashboard (deploy/grafana/portcullis.json) type-checks against @grafana/schema's
// Dashboard type: the JSON becomes a TypeScript object literal typed Dashboard, so a misspelled or
// misplaced field is an excess-property error and a wrong type a type error (tsc --strict). That
// each panel's PromQL returns data from a real Prometheus scraping real gateways is checked by
// deploy/compose/test.sh.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const DEPLOY = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

test('the dashboard type-checks against @grafana/schema', () => {
  const json = readFileSync(path.join(DEPLOY, 'grafana/portcullis.json'), 'utf8');
  const dashboard = JSON.parse(json);
  assert.ok(dashboard.panels.filter((p) => p.type !== 'row').length >= 12, 'panels');
  const dir = path.join(DEPLOY, 'target/grafana-check');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'dashboard.ts'),
    `import type { Dashboard } from '@grafana/schema';\nexport const dashboard: Dashboard = ${json};\n`);
  writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { strict: true, noEmit: true, target: 'es2022', module: 'nodenext', moduleResolution: 'nodenext',
      skipLibCheck: true, typeRoots: [], types: [], baseUrl: '.', paths: { '@grafana/schema': [path.join(DEPLOY, 'node_modules/@grafana/schema')] } },
    files: ['dashboard.ts'],
  }));
  try {
    execFileSync(path.join(DEPLOY, 'node_modules/.bin/tsc'), ['-p', dir], { encoding: 'utf8' });
  } catch (error) {
    assert.fail(`tsc:\n${error.stdout}${error.stderr}`);
  }
});

test('every panel query names the job and instance variables, so the dashboard filters as one', () => {
  const dashboard = JSON.parse(readFileSync(path.join(DEPLOY, 'grafana/portcullis.json'), 'utf8'));
  for (const panel of dashboard.panels.filter((p) => p.type !== 'row')) {
    for (const target of panel.targets) {
      assert.match(target.expr, /job="\$job", instance=~"\$instance"/, `${panel.title}: ${target.expr}`);
    }
  }
});
