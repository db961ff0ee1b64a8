// Offline checks of deploy/k8s: every rendered manifest validates against the Kubernetes schemas
// (kubernetes-models), follows our deployment rules (probes, drain, non-root, read-only root, the
// admin port kept inside the cluster), its gateway configuration passes `portcullis check-config`,
// and every YAML file passes yamllint. Rendering uses kustomize (`kubectl kustomize`).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments, parse } from 'yaml';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const TARGETS = ['deploy/k8s/base', 'deploy/k8s/overlays/production'];

function render(dir) {
  const text = execFileSync('kubectl', ['kustomize', path.join(ROOT, dir)], { encoding: 'utf8' });
  return parseAllDocuments(text).map((doc) => {
    assert.deepEqual(doc.errors, [], `${dir}: YAML errors`);
    return doc.toJS();
  });
}

const byKind = (docs, kind) => docs.filter((d) => d.kind === kind);
const one = (docs, kind) => {
  const found = byKind(docs, kind);
  assert.equal(found.length, 1, `one ${kind}`);
  return found[0];
};

/** Seconds of a duration such as 20s, 1m, 500ms. */
function seconds(duration) {
  const m = /^(\d+)(ms|s|m|h)$/.exec(String(duration));
  assert.ok(m, `duration ${duration}`);
  return Number(m[1]) * { ms: 0.001, s: 1, m: 60, h: 3600 }[m[2]];
}

for (const dir of TARGETS) {
  test(`${dir}: every manifest validates against the Kubernetes schemas`, async () => {
    const docs = render(dir);
    assert.ok(docs.length >= 8, `${docs.length} manifests`);
    for (const doc of docs) {
      const models = await import(`kubernetes-models/${doc.apiVersion}`);
      const Model = models[doc.kind];
      assert.ok(Model, `kubernetes-models knows ${doc.apiVersion} ${doc.kind}`);
      assert.doesNotThrow(() => new Model(doc).validate(), `${doc.kind}/${doc.metadata.name}`);
    }
  });

  test(`${dir}: the deployment drains, probes, runs unprivileged and keeps the admin port inside`, () => {
    const docs = render(dir);
    const deployment = one(docs, 'Deployment');
    const pod = deployment.spec.template.spec;
    const container = pod.containers.find((c) => c.name === 'portcullis');
    const port = (name) => container.ports.find((p) => p.name === name).containerPort;

    assert.equal(container.readinessProbe.httpGet.path, '/readyz');
    assert.equal(container.livenessProbe.httpGet.path, '/healthz');
    assert.equal(container.readinessProbe.httpGet.port, 'admin');

    const config = parse(one(docs, 'ConfigMap').data['portcullis.yaml']);
    const drain = seconds(config.shutdown['drain-timeout']);
    const preStop = container.lifecycle.preStop.sleep.seconds;
    assert.ok(pod.terminationGracePeriodSeconds >= preStop + drain + 5,
      `grace ${pod.terminationGracePeriodSeconds}s covers preStop ${preStop}s + drain ${drain}s + exit`);
    assert.equal(config.server.port, port('ws'));
    assert.equal(config.admin.port, port('admin'));

    assert.equal(pod.securityContext.runAsNonRoot, true);
    assert.equal(pod.securityContext.runAsUser, 65532);
    assert.equal(container.securityContext.readOnlyRootFilesystem, true);
    assert.equal(container.securityContext.allowPrivilegeEscalation, false);
    assert.deepEqual(container.securityContext.capabilities.drop, ['ALL']);
    assert.ok(container.volumeMounts.some((m) => m.mountPath === '/tmp'), 'a writable /tmp for Netty\'s native library');
    assert.ok(container.resources.requests.cpu && container.resources.limits.memory, 'resources');
    assert.ok(pod.topologySpreadConstraints.some((c) => c.topologyKey === 'kubernetes.io/hostname'), 'spread across nodes');
    assert.ok(deployment.spec.replicas >= 2);

    // The admin port: a ClusterIP Service of its own, and only pods of the cluster may reach it.
    const services = byKind(docs, 'Service');
    const admin = services.find((s) => s.spec.ports.some((p) => p.port === port('admin')));
    assert.equal(admin.spec.type, 'ClusterIP');
    assert.ok(services.every((s) => s === admin || !s.spec.ports.some((p) => p.targetPort === 'admin' || p.port === port('admin'))),
      'the public Service does not carry the admin port');
    const policy = one(docs, 'NetworkPolicy');
    for (const rule of policy.spec.ingress) {
      if (rule.ports.some((p) => p.port === port('admin'))) {
        assert.ok(rule.from?.length && rule.from.every((f) => f.namespaceSelector && !f.ipBlock), 'admin: from the cluster only');
      }
    }
    assert.ok(policy.spec.ingress.some((r) => !r.from && r.ports.some((p) => p.port === port('ws'))), 'WebSocket open');

    const pdb = one(docs, 'PodDisruptionBudget');
    assert.equal(pdb.spec.maxUnavailable, 1);
    const hpa = one(docs, 'HorizontalPodAutoscaler');
    assert.equal(hpa.spec.scaleTargetRef.name, deployment.metadata.name);
    assert.ok(hpa.spec.minReplicas >= 2);
  });

  test(`${dir}: the gateway accepts its configuration (portcullis check-config)`, () => {
    const jar = path.join(ROOT, 'gateway/target/portcullis.jar');
    assert.ok(existsSync(jar), `${jar} (built by the gateway module before this one)`);
    const docs = render(dir);
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'portcullis-k8s-')), 'portcullis.yaml');
    writeFileSync(file, one(docs, 'ConfigMap').data['portcullis.yaml']);
    const secret = one(docs, 'Secret').stringData;
    const javaHome = process.env.JAVA_HOME && existsSync(path.join(process.env.JAVA_HOME, 'bin/java'))
      ? process.env.JAVA_HOME
      : execFileSync(path.join(ROOT, 'portcullis'), ['java-home'], { encoding: 'utf8' }).trim();
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PORTCULLIS_')));
    const out = execFileSync(path.join(javaHome, 'bin/java'), ['-jar', jar, 'check-config', '--config', file], {
      encoding: 'utf8', env: { ...env, ...secret },
    });
    assert.match(out, /configuration is valid/);
  });
}

test('every YAML file under deploy/ passes yamllint', () => {
  execFileSync('yamllint', ['-c', path.join(ROOT, '.yamllint'), '-s', path.join(ROOT, 'deploy')], { stdio: 'inherit' });
});
