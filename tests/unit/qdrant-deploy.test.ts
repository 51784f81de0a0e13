/**
 * deploy/: no docker or cluster runs here, so the files are checked for what can be checked: the YAML
 * parses, the compose file and the Kubernetes manifests describe a three-node Qdrant cluster and probe the
 * gateway on /_gateway/health, the gateway configs are valid config files that give replication factor 2
 * and write consistency 2, and the Dockerfile is multi-stage, non-root, with the model and a health check.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadSettings } from '../../bin/config';

// js-yaml (a dev dependency) only parses the deploy files here.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const yaml = require('js-yaml') as { safeLoadAll: (text: string) => unknown[] };
const loadAll = (text: string): any[] => yaml.safeLoadAll(text).filter((d) => d != null) as any[];

const DEPLOY = path.resolve(__dirname, '../../deploy');
const read = (...p: string[]) => readFileSync(path.join(DEPLOY, ...p), 'utf8');

/** Loads a config file through the gateway's own loader (schema validation included). */
function storeOf(configJson: string) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'isg-deploy-'));
  try {
    const file = path.join(dir, 'gateway.json');
    writeFileSync(file, configJson);
    return loadSettings({ configFile: file }, {}).store;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const REPLICATED = { replicationFactor: 2, writeConsistencyFactor: 2 };

describe('deploy/compose.yaml', () => {
  const compose = loadAll(read('compose.yaml'))[0];
  const qdrants = Object.entries<any>(compose.services).filter(([name]) => name.startsWith('qdrant-'));

  it('runs three clustered Qdrant nodes that bootstrap from the first', () => {
    expect(qdrants.map(([n]) => n)).toEqual(['qdrant-1', 'qdrant-2', 'qdrant-3']);
    for (const [name, svc] of qdrants) {
      expect(svc.environment.QDRANT__CLUSTER__ENABLED).toBe('true');
      expect(svc.command).toEqual(expect.arrayContaining(['--uri', `http://${name}:6335`]));
      if (name !== 'qdrant-1') expect(svc.command).toEqual(expect.arrayContaining(['--bootstrap', 'http://qdrant-1:6335']));
      expect(svc.healthcheck.test.join(' ')).toContain('/readyz');
    }
  });

  it('starts the gateway from deploy/Dockerfile once every node is healthy, with a replicated store config', () => {
    const gw = compose.services.gateway;
    expect(gw.build.dockerfile).toBe('deploy/Dockerfile');
    expect(Object.keys(gw.depends_on).sort()).toEqual(['qdrant-1', 'qdrant-2', 'qdrant-3']);
    expect(gw.volumes[0]).toMatch(/^\.\/config\/gateway\.json:\/etc\/isg\/gateway\.json/);
    expect(storeOf(read('config', 'gateway.json'))).toEqual({ kind: 'qdrant', qdrant: expect.objectContaining({ url: 'http://qdrant-1:6333', ...REPLICATED }) });
  });
});

describe('deploy/kubernetes', () => {
  const files = readdirSync(path.join(DEPLOY, 'kubernetes')).filter((f) => f.endsWith('.yaml'));
  const docs = files.filter((f) => f !== 'kustomization.yaml').flatMap((f) => loadAll(read('kubernetes', f)));
  const byKind = (kind: string, name: string) => docs.find((d) => d.kind === kind && d.metadata.name === name);

  it('lists every manifest in the kustomization', () => {
    const kustomization = loadAll(read('kubernetes', 'kustomization.yaml'))[0];
    expect([...kustomization.resources].sort()).toEqual(files.filter((f) => f !== 'kustomization.yaml').sort());
    for (const d of docs) expect(d).toEqual(expect.objectContaining({ apiVersion: expect.any(String), kind: expect.any(String) }));
  });

  it('runs Qdrant as a three-replica StatefulSet in cluster mode behind a headless service', () => {
    const sts = byKind('StatefulSet', 'qdrant');
    expect(sts.spec.replicas).toBe(3);
    expect(sts.spec.serviceName).toBe('qdrant-headless');
    const env = Object.fromEntries(sts.spec.template.spec.containers[0].env.map((e: any) => [e.name, e.value ?? e.valueFrom]));
    expect(env.QDRANT__CLUSTER__ENABLED).toBe('true');
    expect(sts.spec.template.spec.containers[0].args[0]).toContain('--bootstrap "http://qdrant-0.qdrant-headless:6335"');
    expect(byKind('Service', 'qdrant-headless').spec.clusterIP).toBe('None');
  });

  it('probes the gateway on /_gateway/health, as non-root, with a replicated store config', () => {
    const deployment = byKind('Deployment', 'gateway');
    const container = deployment.spec.template.spec.containers[0];
    expect(container.readinessProbe.httpGet.path).toBe('/_gateway/health');
    expect(container.livenessProbe.httpGet.path).toBe('/_gateway/health');
    expect(deployment.spec.template.spec.securityContext.runAsNonRoot).toBe(true);
    const config = byKind('ConfigMap', 'gateway-config').data['gateway.json'];
    expect(storeOf(config)).toEqual({ kind: 'qdrant', qdrant: expect.objectContaining({ url: 'http://qdrant:6333', ...REPLICATED }) });
  });
});

describe('deploy/Dockerfile', () => {
  const lines = read('Dockerfile')
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.trim().startsWith('#'));
  const instructions = lines.filter((l) => /^[A-Z]+\s/.test(l));

  it('builds in stages and runs as a non-root user with the model and a health check', () => {
    expect(instructions.filter((l) => l.startsWith('FROM ')).length).toBeGreaterThanOrEqual(2);
    const finalStage = instructions.slice(instructions.map((l) => l.startsWith('FROM ')).lastIndexOf(true));
    expect(finalStage.find((l) => l.startsWith('USER '))).toMatch(/^USER (?!root\b|0\b)\S+/);
    expect(finalStage.some((l) => /^COPY --from=build \/app\/models /.test(l))).toBe(true);
    expect(read('Dockerfile')).toMatch(/HEALTHCHECK[\s\S]*\/_gateway\/health/);
    expect(finalStage.at(-1)).toMatch(/^CMD \["node", ("--[^"]+", )*"dist\/bin\/isg.js", "serve"\]$/); // flags: node-flags.test.ts
  });
});
