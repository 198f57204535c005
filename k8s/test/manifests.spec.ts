/**
 * Renders every kustomize overlay under k8s/overlays (and the base) with `kubectl kustomize`
 * and checks the result offline: each object against the Kubernetes OpenAPI schema
 * (kubernetes-models), custom resources against an explicit allow-list, and Parley's own
 * rules (six services, probes, resources, labels, secrets only by reference, ...).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import * as kubernetesModels from 'kubernetes-models';
import * as prometheusOperatorModels from '@kubernetes-models/prometheus-operator';
import { Deployment } from 'kubernetes-models/apps/v1';

/* eslint-disable @typescript-eslint/no-explicit-any -- rendered manifests are untyped JSON */
type Manifest = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: any;
};

const K8S_DIR = path.resolve(__dirname, '..');
const BASE_DIR = path.join(K8S_DIR, 'base');
const OVERLAYS_DIR = path.join(K8S_DIR, 'overlays');

const IMAGE = 'ghcr.io/parley-chat/parley';
const SERVICES = ['auth', 'keys', 'messaging', 'media', 'moderation', 'edge'] as const;
type ServiceName = (typeof SERVICES)[number];
/** Every service but the edge owns a PostgreSQL database. */
const DB_SERVICES = SERVICES.filter((s) => s !== 'edge');
const RPC_PORT = 50051;
const METRICS_PORT = 9090;
const HTTP_PORT = 8080;
const SELECTOR_KEYS = ['app.kubernetes.io/name', 'app.kubernetes.io/part-of'];
const REQUIRED_LABELS = [
  'app.kubernetes.io/name',
  'app.kubernetes.io/part-of',
  'app.kubernetes.io/component',
  'app.kubernetes.io/managed-by',
];
/** Variables that must never be written into a manifest in clear. */
const SECRET_VARIABLES = ['DATABASE_URL', 'AUTH_SIGNING_KEY', 'KEYS_LOG_SIGNING_KEY', 'CLIENT_ADDRESS_SECRET', 'CLIENT_ADDRESS_PREVIOUS_SECRET', 'FRANKING_KEYS', 'FRANKING_ACTIVE_KEY_ID'];
/** Secrets an overlay may reference without rendering them: operators create these (k8s/README.md). */
const OPERATOR_SECRETS = new Set([
  ...DB_SERVICES.map((s) => `parley-${s}-db`),
  'parley-auth-signing-key',
  'parley-keys-log-signing-key',
  'parley-client-address-secret',
  'parley-franking',
  'parley-edge-tls',
  'parley-media-s3',
  'parley-pg-backup',
]);

/** What each overlay promises; a new overlay must say what it promises too. */
const OVERLAY_EXPECTATIONS: Record<
  string,
  {
    namespace: string;
    logLevel: string;
    streamReplicas: number;
    postgresInstances: number;
    /** generated: the overlay renders its own (dev-only) Secrets; operator: it renders none. */
    secrets: 'generated' | 'operator';
    replicas: Partial<Record<ServiceName, number | 'autoscaled'>>;
    ingress: boolean;
    /** ServiceMonitors, the SLO alerts and the dashboard (the monitoring component). */
    monitoring: boolean;
    /** parley-pg archives WAL and takes scheduled base backups to object storage. */
    backups: boolean;
  }
> = {
  dev: {
    namespace: 'parley-dev',
    logLevel: 'debug',
    streamReplicas: 1,
    postgresInstances: 1,
    secrets: 'generated',
    replicas: { auth: 1, keys: 1, messaging: 1, media: 1, moderation: 1, edge: 1 },
    ingress: false,
    monitoring: false,
    backups: false,
  },
  prod: {
    namespace: 'parley',
    logLevel: 'info',
    streamReplicas: 3,
    postgresInstances: 3,
    secrets: 'operator',
    replicas: { auth: 3, keys: 2, messaging: 3, media: 2, moderation: 2, edge: 'autoscaled' },
    ingress: true,
    monitoring: true,
    backups: true,
  },
};

// ---------------------------------------------------------------------------------------------
// Validation: kubernetes-models for every kind it knows, an allow-list for the rest.

interface ModelClass {
  apiVersion: string;
  kind: string;
  new (data: unknown): { validate(): void };
}

/** "apiVersion/kind" -> model class, found by walking every group and version kubernetes-models exports. */
function collectModels(namespace: unknown, found = new Map<string, ModelClass>(), depth = 0): Map<string, ModelClass> {
  if (namespace === null || typeof namespace !== 'object' || depth > 3) return found;
  for (const value of Object.values(namespace)) {
    const model = value as Partial<ModelClass>;
    if (typeof value === 'function' && typeof model.apiVersion === 'string' && typeof model.kind === 'string') {
      found.set(`${model.apiVersion}/${model.kind}`, value as ModelClass);
    } else {
      collectModels(value, found, depth + 1);
    }
  }
  return found;
}
const MODELS = collectModels(prometheusOperatorModels, collectModels(kubernetesModels));

/** Custom resources kubernetes-models cannot know, each with a check of the fields Parley relies on. */
const CUSTOM_RESOURCES: Record<string, (obj: Manifest) => string[]> = {
  'postgresql.cnpg.io/v1/Cluster': (obj) => [
    ...(obj.metadata?.name ? [] : ['metadata.name is required']),
    ...(Number.isInteger(obj.spec?.instances) && obj.spec.instances >= 1 ? [] : ['spec.instances must be an integer >= 1']),
  ],
  'postgresql.cnpg.io/v1/ScheduledBackup': (obj) => [
    ...(obj.metadata?.name ? [] : ['metadata.name is required']),
    // CloudNativePG's cron has six fields, seconds first.
    ...(typeof obj.spec?.schedule === 'string' && obj.spec.schedule.trim().split(/\s+/).length === 6 ? [] : ['spec.schedule must be a six-field cron']),
    ...(typeof obj.spec?.cluster?.name === 'string' && obj.spec.cluster.name ? [] : ['spec.cluster.name is required']),
    ...(['barmanObjectStore', 'volumeSnapshot', 'plugin', undefined].includes(obj.spec?.method) ? [] : ['spec.method is not one CloudNativePG knows']),
  ],
  'postgresql.cnpg.io/v1/Database': (obj) => [
    ...(obj.metadata?.name ? [] : ['metadata.name is required']),
    ...(typeof obj.spec?.name === 'string' && obj.spec.name ? [] : ['spec.name is required']),
    ...(typeof obj.spec?.owner === 'string' && obj.spec.owner ? [] : ['spec.owner is required']),
    ...(typeof obj.spec?.cluster?.name === 'string' && obj.spec.cluster.name ? [] : ['spec.cluster.name is required']),
  ],
};

function typeOf(obj: Pick<Manifest, 'apiVersion' | 'kind'>): string {
  return `${obj.apiVersion}/${obj.kind}`;
}

/**
 * kustomize wraps long base64 values over several lines. The API server accepts that (Go's
 * base64 decoder skips newlines); the schema's "byte" format does not, so newlines go first.
 */
function asSentToTheApiServer(obj: Manifest): Manifest {
  const unwrap = (data: Record<string, string> | undefined) =>
    data && Object.fromEntries(Object.entries(data).map(([key, value]) => [key, typeof value === 'string' ? value.replace(/[\r\n]/g, '') : value]));
  if (obj.apiVersion === 'v1' && obj.kind === 'Secret') return { ...obj, data: unwrap(obj.data) };
  if (obj.apiVersion === 'v1' && obj.kind === 'ConfigMap') return { ...obj, binaryData: unwrap(obj.binaryData) };
  return obj;
}

/** Why `obj` is invalid; empty when it is valid. */
function problemsOf(obj: Manifest): string[] {
  const model = MODELS.get(typeOf(obj));
  if (model) {
    try {
      new model(asSentToTheApiServer(obj)).validate();
      return [];
    } catch (err) {
      return [(err as Error).message];
    }
  }
  const check = CUSTOM_RESOURCES[typeOf(obj)];
  if (!check) return [`${typeOf(obj)} is neither known to kubernetes-models nor on the custom-resource allow-list`];
  return check(obj);
}

// ---------------------------------------------------------------------------------------------
// Rendering and lookups.

function render(dir: string): Manifest[] {
  const text = execFileSync('kubectl', ['kustomize', dir], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const objects: Manifest[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length) throw new Error(`${dir}: unparsable YAML: ${doc.errors.map((e) => e.message).join('; ')}`);
    const value = doc.toJS() as Manifest | null;
    if (value !== null && value !== undefined) objects.push(value);
  }
  return objects;
}

const overlays = readdirSync(OVERLAYS_DIR, { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && existsSync(path.join(OVERLAYS_DIR, entry.name, 'kustomization.yaml')))
  .map((entry) => entry.name)
  .sort();

const id = (obj: Manifest) => `${obj.kind}/${obj.metadata?.name}`;
const ofKind = (objects: Manifest[], kind: string) => objects.filter((o) => o.kind === kind);
function named(objects: Manifest[], kind: string, name: string): Manifest {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`no ${kind} named ${name}`);
  return found;
}
function containersOf(deployment: Manifest): any[] {
  return [...(deployment.spec.template.spec.initContainers ?? []), ...deployment.spec.template.spec.containers];
}
/** The container that runs the service: the one named after the Deployment. */
function mainContainer(deployment: Manifest): any {
  const container = deployment.spec.template.spec.containers.find((c: any) => c.name === deployment.metadata.name);
  if (!container) throw new Error(`${id(deployment)} has no container named ${deployment.metadata.name}`);
  return container;
}
/** A kustomize-generated name is the base name plus "-" and a 10-character hash. */
function isGeneratedFrom(name: string, base: string): boolean {
  return name === base || new RegExp(`^${base}-[a-z0-9]{10}$`).test(name);
}
/** The environment a container gets from its ConfigMaps and literal values (Secret refs left out). */
function literalEnvironment(objects: Manifest[], container: any): Record<string, string> {
  const env: Record<string, string> = {};
  for (const source of container.envFrom ?? []) {
    if (source.configMapRef) Object.assign(env, named(objects, 'ConfigMap', source.configMapRef.name).data ?? {});
  }
  for (const variable of container.env ?? []) {
    if (typeof variable.value === 'string') env[variable.name] = variable.value;
  }
  return env;
}
function matches(selector: Record<string, string>, labels: Record<string, string> | undefined): boolean {
  return Object.entries(selector).every(([key, value]) => labels?.[key] === value);
}
function decode(secret: Manifest, key: string): string {
  if (secret.stringData?.[key] !== undefined) return secret.stringData[key];
  return Buffer.from(secret.data?.[key] ?? '', 'base64').toString('utf8');
}

/** Every (kind, name) a manifest refers to by name: ConfigMaps, Secrets. */
function references(objects: Manifest[]): { kind: 'ConfigMap' | 'Secret'; name: string; from: string }[] {
  const refs: { kind: 'ConfigMap' | 'Secret'; name: string; from: string }[] = [];
  for (const deployment of ofKind(objects, 'Deployment')) {
    const from = id(deployment);
    for (const container of containersOf(deployment)) {
      for (const source of container.envFrom ?? []) {
        if (source.configMapRef) refs.push({ kind: 'ConfigMap', name: source.configMapRef.name, from });
        if (source.secretRef) refs.push({ kind: 'Secret', name: source.secretRef.name, from });
      }
      for (const variable of container.env ?? []) {
        const ref = variable.valueFrom;
        if (ref?.configMapKeyRef) refs.push({ kind: 'ConfigMap', name: ref.configMapKeyRef.name, from });
        if (ref?.secretKeyRef) refs.push({ kind: 'Secret', name: ref.secretKeyRef.name, from });
      }
    }
    for (const volume of deployment.spec.template.spec.volumes ?? []) {
      if (volume.configMap) refs.push({ kind: 'ConfigMap', name: volume.configMap.name, from });
      if (volume.secret) refs.push({ kind: 'Secret', name: volume.secret.secretName, from });
    }
  }
  for (const ingress of ofKind(objects, 'Ingress')) {
    for (const tls of ingress.spec.tls ?? []) refs.push({ kind: 'Secret', name: tls.secretName, from: id(ingress) });
  }
  for (const cluster of objects.filter((o) => typeOf(o) === 'postgresql.cnpg.io/v1/Cluster')) {
    const initSecret = cluster.spec.bootstrap?.initdb?.secret?.name;
    if (initSecret) refs.push({ kind: 'Secret', name: initSecret, from: id(cluster) });
    for (const role of cluster.spec.managed?.roles ?? []) {
      if (role.passwordSecret?.name) refs.push({ kind: 'Secret', name: role.passwordSecret.name, from: id(cluster) });
    }
    const s3 = cluster.spec.backup?.barmanObjectStore?.s3Credentials;
    for (const key of [s3?.accessKeyId, s3?.secretAccessKey]) if (key?.name) refs.push({ kind: 'Secret', name: key.name, from: id(cluster) });
  }
  return refs;
}

/** The metric names Parley's code registers (prom-client `name: 'parley_...'`), from the sources. */
function exportedMetrics(): Set<string> {
  const names = new Set<string>();
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts')) {
        for (const m of readFileSync(full, 'utf8').matchAll(/name: '(parley_[a-z_]+)'/g)) names.add(m[1]!);
      }
    }
  };
  const root = path.resolve(K8S_DIR, '..');
  walk(path.join(root, 'libs/platform/src'));
  for (const service of SERVICES) walk(path.join(root, 'services', service, 'src'));
  return names;
}

/** Parley metrics a PromQL expression reads that no code exports (histogram series by their base name). */
function unknownMetrics(expr: string, exported: Set<string>): string[] {
  const used = [...expr.matchAll(/\b(parley_[a-z_]+)/g)].map((m) => m[1]!.replace(/_(bucket|count|sum)$/, ''));
  return used.filter((name) => !exported.has(name));
}

/** GitHub's anchor for each heading of a Markdown file. */
function headingAnchors(file: string): Set<string> {
  return new Set(
    [...readFileSync(file, 'utf8').matchAll(/^#+ (.+)$/gm)].map((m) =>
      m[1]!
        .trim()
        .toLowerCase()
        .replace(/[^a-z0-9 _-]/g, '')
        .replace(/ /g, '-'),
    ),
  );
}

/** The SLO alerts issue 16 asks for, each by the name the runbook explains. */
const SLO_ALERTS = ['ParleySendToDeliverSlow', 'ParleyQueueAgeBeyondTtl', 'ParleyOutboxLag', 'ParleyDeadLetters', 'ParleyErrorRatio', 'ParleyPodsNotReady'];

// ---------------------------------------------------------------------------------------------

jest.setTimeout(60_000);

test('the overlays are discovered', () => {
  expect(overlays).toEqual(expect.arrayContaining(['dev', 'prod']));
});

test('the model lookup finds the classes kubernetes-models exports', () => {
  expect(MODELS.get('apps/v1/Deployment')).toBe(Deployment);
  for (const type of ['v1/Service', 'v1/ConfigMap', 'v1/Secret', 'v1/Namespace', 'networking.k8s.io/v1/Ingress',
    'policy/v1/PodDisruptionBudget', 'autoscaling/v2/HorizontalPodAutoscaler']) {
    expect(MODELS.has(type)).toBe(true);
  }
});

describe('validation can fail', () => {
  let deployment: Manifest;
  beforeAll(() => {
    deployment = named(render(BASE_DIR), 'Deployment', 'auth');
  });

  test('the rendered Deployment itself is valid', () => {
    expect(problemsOf(deployment)).toEqual([]);
  });

  test("a Deployment with replicas: 'three' is rejected", () => {
    const broken = structuredClone(deployment);
    broken.spec.replicas = 'three';
    expect(() => new Deployment(broken as never).validate()).toThrow(/replicas/);
    expect(problemsOf(broken)).toEqual([expect.stringMatching(/replicas must be integer/)]);
  });

  test('a Deployment with a non-numeric gRPC probe port is rejected', () => {
    const broken = structuredClone(deployment);
    broken.spec.template.spec.containers[0].readinessProbe.grpc.port = 'grpc';
    expect(problemsOf(broken)).toEqual([expect.stringMatching(/grpc\/port must be integer/)]);
  });

  test('a Secret whose data is not base64 is rejected, however it is wrapped', () => {
    const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, data: { url: 'cG9zdGdyZXM6\nLy8=' } };
    expect(problemsOf(secret)).toEqual([]);
    expect(problemsOf({ ...secret, data: { url: 'postgres://parley:parley@db/parley' } })).toEqual([
      expect.stringMatching(/must match format "byte"/),
    ]);
  });

  test("the Prometheus Operator's kinds are checked against their schemas", () => {
    const monitor = { apiVersion: 'monitoring.coreos.com/v1', kind: 'ServiceMonitor', metadata: { name: 'm' }, spec: { selector: {}, endpoints: [{ port: 'metrics' }] } };
    expect(problemsOf(monitor)).toEqual([]);
    expect(problemsOf({ ...monitor, spec: { ...monitor.spec, endpoints: 'metrics' } })).toEqual([expect.stringMatching(/endpoints/)]);
    const rule = { apiVersion: 'monitoring.coreos.com/v1', kind: 'PrometheusRule', metadata: { name: 'r' }, spec: { groups: [{ name: 'g', rules: [{ alert: 'A' }] }] } };
    expect(problemsOf(rule)).toEqual([expect.stringMatching(/expr/)]);
    const backup = { apiVersion: 'postgresql.cnpg.io/v1', kind: 'ScheduledBackup', metadata: { name: 'b' }, spec: { schedule: '0 3 * * *', cluster: { name: 'pg' } } };
    expect(problemsOf(backup)).toEqual(['spec.schedule must be a six-field cron']);
  });

  test('a custom resource not on the allow-list, or missing fields, is rejected', () => {
    const widget = { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } };
    expect(problemsOf(widget)).toEqual([expect.stringMatching(/allow-list/)]);
    const cluster = { apiVersion: 'postgresql.cnpg.io/v1', kind: 'Cluster', metadata: { name: 'pg' }, spec: {} };
    expect(problemsOf(cluster)).toEqual(['spec.instances must be an integer >= 1']);
  });
});

describe('base', () => {
  let objects: Manifest[];
  beforeAll(() => {
    objects = render(BASE_DIR);
  });

  test('holds no Secret and no custom resource: overlays bring those', () => {
    expect(ofKind(objects, 'Secret')).toEqual([]);
    expect(objects.filter((o) => !MODELS.has(typeOf(o)))).toEqual([]);
  });

  test('every object validates', () => {
    expect(objects.flatMap((o) => problemsOf(o).map((p) => `${id(o)}: ${p}`))).toEqual([]);
  });
});

describe.each(overlays)('overlay %s', (overlay) => {
  const dir = path.join(OVERLAYS_DIR, overlay);
  let objects: Manifest[];
  let deployments: Manifest[];

  beforeAll(() => {
    objects = render(dir);
    deployments = ofKind(objects, 'Deployment');
  });

  const deployment = (name: string) => named(objects, 'Deployment', name);

  // --- schema ------------------------------------------------------------------------------

  test('renders objects', () => {
    expect(objects.length).toBeGreaterThan(0);
  });

  test('every object whose kind kubernetes-models knows validates against the Kubernetes schema', () => {
    const known = objects.filter((o) => MODELS.has(typeOf(o)));
    expect(known.map(typeOf)).toEqual(expect.arrayContaining(['apps/v1/Deployment', 'v1/Service', 'v1/ConfigMap']));
    expect(known.flatMap((o) => problemsOf(o).map((p) => `${id(o)}: ${p}`))).toEqual([]);
  });

  test('every other object is an allow-listed custom resource with its required fields', () => {
    const unknown = objects.filter((o) => !MODELS.has(typeOf(o)));
    expect(unknown.map(typeOf).filter((type) => !(type in CUSTOM_RESOURCES))).toEqual([]);
    expect(unknown.flatMap((o) => problemsOf(o).map((p) => `${id(o)}: ${p}`))).toEqual([]);
  });

  test('object names are unique per kind', () => {
    const ids = objects.map(id);
    expect(ids.filter((value, i) => ids.indexOf(value) !== i)).toEqual([]);
  });

  test('one Namespace, and every other object lives in it', () => {
    const namespaces = ofKind(objects, 'Namespace');
    expect(namespaces).toHaveLength(1);
    const namespace = namespaces[0]!.metadata.name;
    expect(objects.filter((o) => o.kind !== 'Namespace' && o.metadata.namespace !== namespace).map(id)).toEqual([]);
  });

  // --- labels and selectors ----------------------------------------------------------------

  test('every object carries the app.kubernetes.io labels', () => {
    const missing = objects.flatMap((o) =>
      REQUIRED_LABELS.filter((label) => !o.metadata.labels?.[label]).map((label) => `${id(o)} lacks ${label}`),
    );
    expect(missing).toEqual([]);
    expect(objects.filter((o) => o.metadata.labels?.['app.kubernetes.io/part-of'] !== 'parley').map(id)).toEqual([]);
    expect(objects.filter((o) => o.metadata.labels?.['app.kubernetes.io/managed-by'] !== 'kustomize').map(id)).toEqual([]);
  });

  test('exactly the six services, each with a Deployment and a Service of the same name', () => {
    expect(deployments.map((d) => d.metadata.name).sort()).toEqual([...SERVICES].sort());
    for (const name of SERVICES) {
      expect(named(objects, 'Service', name).spec.type ?? 'ClusterIP').toBe('ClusterIP');
      expect(deployment(name).metadata.labels?.['app.kubernetes.io/name']).toBe(name);
    }
  });

  test('Deployment selectors use only name and part-of, and match their pod labels', () => {
    for (const d of deployments) {
      const selector = d.spec.selector.matchLabels;
      expect([d.metadata.name, Object.keys(selector).sort()]).toEqual([d.metadata.name, [...SELECTOR_KEYS].sort()]);
      expect(selector).toEqual({ 'app.kubernetes.io/name': d.metadata.name, 'app.kubernetes.io/part-of': 'parley' });
      expect(d.spec.selector.matchExpressions).toBeUndefined();
      expect(d.spec.template.metadata.labels).toEqual(expect.objectContaining(selector));
    }
  });

  test("every Service selector equals its Deployment's selector and matches its pods", () => {
    for (const name of SERVICES) {
      const service = named(objects, 'Service', name);
      const d = deployment(name);
      expect([name, service.spec.selector]).toEqual([name, d.spec.selector.matchLabels]);
      expect(matches(service.spec.selector, d.spec.template.metadata.labels)).toBe(true);
      // A selector must not match some other service's pods.
      for (const other of deployments.filter((o) => o !== d)) {
        expect([name, other.metadata.name, matches(service.spec.selector, other.spec.template.metadata.labels)]).toEqual([
          name,
          other.metadata.name,
          false,
        ]);
      }
    }
  });

  test('every Service port targets a named port of its Deployment', () => {
    for (const name of SERVICES) {
      const portNames = containersOf(deployment(name)).flatMap((c) => (c.ports ?? []).map((p: any) => p.name));
      for (const port of named(objects, 'Service', name).spec.ports) {
        expect([name, port.name, portNames]).toEqual([name, port.name, expect.arrayContaining([port.targetPort])]);
      }
      const ports = named(objects, 'Service', name).spec.ports;
      expect(ports).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ name: 'grpc', port: RPC_PORT, targetPort: 'grpc', appProtocol: 'kubernetes.io/h2c' }),
          expect.objectContaining({ name: 'metrics', port: METRICS_PORT, targetPort: 'metrics' }),
        ]),
      );
    }
  });

  test('the edge Service exposes port 80 to the http container port (8080)', () => {
    const http = named(objects, 'Service', 'edge').spec.ports.find((p: any) => p.name === 'http');
    expect(http).toEqual(expect.objectContaining({ port: 80, targetPort: 'http' }));
    expect(mainContainer(deployment('edge')).ports).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: 'http', containerPort: HTTP_PORT })]),
    );
    expect(literalEnvironment(objects, mainContainer(deployment('edge'))).HTTP_PORT).toBe(String(HTTP_PORT));
    for (const name of SERVICES.filter((s) => s !== 'edge')) {
      expect(named(objects, 'Service', name).spec.ports.map((p: any) => p.name)).not.toContain('http');
    }
  });

  test('PodDisruptionBudgets, autoscalers and Ingresses point at things that exist', () => {
    for (const pdb of ofKind(objects, 'PodDisruptionBudget')) {
      const selected = deployments.filter((d) => matches(pdb.spec.selector.matchLabels, d.spec.template.metadata.labels));
      expect([id(pdb), selected.length]).toEqual([id(pdb), 1]);
    }
    for (const hpa of ofKind(objects, 'HorizontalPodAutoscaler')) {
      expect(hpa.spec.scaleTargetRef).toEqual(expect.objectContaining({ apiVersion: 'apps/v1', kind: 'Deployment' }));
      // spec.replicas is the autoscaler's: a fixed count would be reset on every apply.
      expect([id(hpa), deployment(hpa.spec.scaleTargetRef.name).spec.replicas]).toEqual([id(hpa), undefined]);
    }
    for (const ingress of ofKind(objects, 'Ingress')) {
      for (const rule of ingress.spec.rules) {
        for (const p of rule.http.paths) {
          const service = named(objects, 'Service', p.backend.service.name);
          expect(service.spec.ports.map((port: any) => port.name)).toContain(p.backend.service.port.name);
        }
      }
    }
  });

  // --- containers ----------------------------------------------------------------------------

  describe.each(SERVICES)('%s container', (name) => {
    test('runs the shared image with its own entry point', () => {
      const d = deployment(name);
      expect(d.spec.template.spec.containers).toHaveLength(1);
      const c = mainContainer(d);
      expect(c.image).toMatch(new RegExp(`^${IMAGE.replace(/\./g, '\\.')}(:[\\w][\\w.-]*|@sha256:[0-9a-f]{64})$`));
      expect(c.image).not.toMatch(/:latest$/);
      expect(c.command).toEqual(['node']);
      expect(c.args).toEqual([`services/${name}/dist/main.js`]);
    });

    test('declares grpc and metrics ports that match its configuration', () => {
      const c = mainContainer(deployment(name));
      expect(c.ports).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ name: 'grpc', containerPort: RPC_PORT }),
          expect.objectContaining({ name: 'metrics', containerPort: METRICS_PORT }),
        ]),
      );
      const env = literalEnvironment(objects, c);
      expect(env.RPC_PORT ?? String(RPC_PORT)).toBe(String(RPC_PORT));
      expect(env.METRICS_PORT ?? String(METRICS_PORT)).toBe(String(METRICS_PORT));
    });

    test('has gRPC health startup and readiness probes, and a TCP liveness probe, on the RPC port', () => {
      const c = mainContainer(deployment(name));
      for (const probe of ['startupProbe', 'readinessProbe']) {
        expect([probe, c[probe]?.grpc?.port]).toEqual([probe, RPC_PORT]);
      }
      // A database outage makes health NOT_SERVING; that must not restart the pod.
      expect(c.livenessProbe?.tcpSocket?.port).toBe(RPC_PORT);
      // Start-up may wait for another pod's migration (the lock): allow it at least a minute.
      const startup = c.startupProbe;
      expect((startup.periodSeconds ?? 10) * (startup.failureThreshold ?? 3)).toBeGreaterThanOrEqual(60);
    });

    test('sets CPU and memory requests and limits', () => {
      for (const c of containersOf(deployment(name))) {
        for (const bound of ['requests', 'limits']) {
          for (const resource of ['cpu', 'memory']) {
            expect([c.name, bound, resource, c.resources?.[bound]?.[resource]]).toEqual([c.name, bound, resource, expect.anything()]);
          }
        }
      }
    });

    test('runs as non-root with a read-only root filesystem, no privilege escalation, no capabilities, seccomp', () => {
      const pod = deployment(name).spec.template.spec;
      for (const c of containersOf(deployment(name))) {
        const sc = c.securityContext ?? {};
        expect(sc.runAsNonRoot ?? pod.securityContext?.runAsNonRoot).toBe(true);
        expect(sc.readOnlyRootFilesystem).toBe(true);
        expect(sc.allowPrivilegeEscalation).toBe(false);
        expect(sc.privileged ?? false).toBe(false);
        expect(sc.capabilities?.drop).toContain('ALL');
        expect(sc.capabilities?.add ?? []).toEqual([]);
        expect((sc.seccompProfile ?? pod.securityContext?.seccompProfile)?.type).toBe('RuntimeDefault');
      }
      expect(pod.hostNetwork ?? false).toBe(false);
    });

    test('is scraped by Prometheus and outlives its shutdown grace', () => {
      const d = deployment(name);
      expect(d.spec.template.metadata.annotations).toEqual(
        expect.objectContaining({
          'prometheus.io/scrape': 'true',
          'prometheus.io/port': String(METRICS_PORT),
          'prometheus.io/path': '/metrics',
        }),
      );
      const grace = Number(literalEnvironment(objects, mainContainer(d)).SHUTDOWN_GRACE_SECONDS);
      expect(grace).toBeGreaterThan(0);
      expect(d.spec.template.spec.terminationGracePeriodSeconds).toBeGreaterThan(grace);
    });
  });

  // --- network policies ----------------------------------------------------------------------

  /** The only pods that may call each service's internal gRPC port (see which service's config names which URL). */
  const RPC_CALLERS: Record<ServiceName, ServiceName[]> = {
    auth: ['edge', 'keys', 'messaging', 'media', 'moderation'],
    keys: ['edge'],
    messaging: ['edge'],
    media: ['edge'],
    moderation: ['edge'],
    edge: [],
  };
  const STRANGER = { app: 'anything-else-in-the-cluster' };

  const policyOf = (name: string) => {
    const podLabels = deployment(name).spec.template.metadata.labels;
    const selecting = ofKind(objects, 'NetworkPolicy').filter((p) => Object.entries<string>(p.spec.podSelector.matchLabels ?? {}).every(([k, v]) => podLabels[k] === v));
    expect([name, selecting.map(id)]).toEqual([name, [`NetworkPolicy/${name}`]]);
    return selecting[0]!;
  };

  /** Whether `policy` lets a pod with `labels` (in the same namespace) connect to the named port. */
  function allows(policy: Manifest, labels: Record<string, string>, port: string): boolean {
    return (policy.spec.ingress ?? []).some((rule: any) => {
      const portMatches = !rule.ports || rule.ports.some((p: any) => p.port === port);
      const peerMatches =
        !rule.from ||
        rule.from.some((peer: any) => {
          if (peer.ipBlock) return false;
          const inNamespace = !peer.namespaceSelector || Object.keys(peer.namespaceSelector.matchLabels ?? {}).length === 0;
          const podMatches = !peer.podSelector || Object.entries<string>(peer.podSelector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
          return inNamespace && podMatches;
        });
      return portMatches && peerMatches;
    });
  }

  test.each(SERVICES)('%s: one NetworkPolicy limits ingress to its grpc port to the named callers', (name) => {
    const policy = policyOf(name);
    expect(policy.spec.policyTypes).toEqual(['Ingress']);
    for (const caller of SERVICES) {
      const labels = deployment(caller).spec.template.metadata.labels;
      expect([caller, '->', name, allows(policy, labels, 'grpc')]).toEqual([caller, '->', name, RPC_CALLERS[name].includes(caller)]);
    }
    expect(allows(policy, STRANGER, 'grpc')).toBe(false);
    expect(allows(policy, STRANGER, 'metrics')).toBe(true);
  });

  test("media's uploads port is open to the edge only", () => {
    for (const caller of SERVICES) {
      const labels = deployment(caller).spec.template.metadata.labels;
      expect([caller, allows(policyOf('media'), labels, 'uploads')]).toEqual([caller, caller === 'edge']);
    }
    expect(allows(policyOf('media'), STRANGER, 'uploads')).toBe(false);
  });

  test("only the edge's public port is open to any client", () => {
    expect(allows(policyOf('edge'), STRANGER, 'http')).toBe(true);
    for (const name of SERVICES.filter((s) => s !== 'edge')) expect([name, allows(policyOf(name), STRANGER, 'http')]).toEqual([name, false]);
  });

  // --- configuration and secrets -------------------------------------------------------------

  test('DATABASE_URL, the signing keys and the client-address secrets come from Secrets, never from literal values', () => {
    for (const d of deployments) {
      for (const c of containersOf(d)) {
        for (const variable of (c.env ?? []).filter((v: any) => SECRET_VARIABLES.includes(v.name))) {
          expect([id(d), variable.name, variable.value]).toEqual([id(d), variable.name, undefined]);
          expect([id(d), variable.name, variable.valueFrom?.secretKeyRef?.name]).toEqual([id(d), variable.name, expect.any(String)]);
        }
      }
    }
    for (const cm of ofKind(objects, 'ConfigMap')) {
      for (const key of SECRET_VARIABLES) expect([id(cm), cm.data?.[key]]).toEqual([id(cm), undefined]);
      // Nothing that looks like a credential-bearing URL or a private JWK.
      for (const [key, value] of Object.entries<string>(cm.data ?? {})) {
        expect([id(cm), key, /\/\/[^/@\s]+:[^/@\s]+@/.test(value) || /"d"\s*:/.test(value)]).toEqual([id(cm), key, false]);
      }
    }
  });

  test.each(DB_SERVICES)('%s reads DATABASE_URL from its own Secret parley-<service>-db', (name) => {
    const variable = (mainContainer(deployment(name)).env ?? []).find((v: any) => v.name === 'DATABASE_URL');
    const ref = variable?.valueFrom?.secretKeyRef;
    expect(ref?.key).toBe('url');
    expect(isGeneratedFrom(ref?.name ?? '', `parley-${name}-db`)).toBe(true);
  });

  test.each(DB_SERVICES)('%s migrates in an init container before it starts, and refuses a schema that is behind', (name) => {
    const d = deployment(name);
    const main = mainContainer(d);
    const inits = d.spec.template.spec.initContainers ?? [];
    expect(inits.map((c: any) => c.name)).toEqual(['migrate']);
    const migrate = inits[0]!;
    expect([migrate.image, migrate.command, migrate.args]).toEqual([main.image, ['node'], [`services/${name}/dist/main.js`, 'migrate']]);
    const databaseUrlOf = (c: any) => (c.env ?? []).find((v: any) => v.name === 'DATABASE_URL')?.valueFrom?.secretKeyRef;
    expect(databaseUrlOf(migrate)).toEqual(databaseUrlOf(main));
    expect(literalEnvironment(objects, main).DATABASE_MIGRATE_ON_START).toBe('false');
  });

  test('the edge has no init container', () => {
    expect(deployment('edge').spec.template.spec.initContainers ?? []).toEqual([]);
  });

  test('auth reads AUTH_SIGNING_KEY from parley-auth-signing-key; the edge has no database', () => {
    const signing = (mainContainer(deployment('auth')).env ?? []).find((v: any) => v.name === 'AUTH_SIGNING_KEY');
    expect(signing?.valueFrom?.secretKeyRef?.key).toBe('jwk');
    expect(isGeneratedFrom(signing?.valueFrom?.secretKeyRef?.name ?? '', 'parley-auth-signing-key')).toBe(true);
    const edgeEnv = mainContainer(deployment('edge')).env ?? [];
    expect(edgeEnv.map((v: any) => v.name)).not.toContain('DATABASE_URL');
    for (const name of SERVICES.filter((s) => s !== 'auth')) {
      expect((mainContainer(deployment(name)).env ?? []).map((v: any) => v.name)).not.toContain('AUTH_SIGNING_KEY');
    }
  });

  test('keys reads KEYS_LOG_SIGNING_KEY from parley-keys-log-signing-key; no other service has it', () => {
    const signing = (mainContainer(deployment('keys')).env ?? []).find((v: any) => v.name === 'KEYS_LOG_SIGNING_KEY');
    expect(signing?.valueFrom?.secretKeyRef?.key).toBe('key');
    expect(isGeneratedFrom(signing?.valueFrom?.secretKeyRef?.name ?? '', 'parley-keys-log-signing-key')).toBe(true);
    for (const name of SERVICES.filter((s) => s !== 'keys')) {
      expect((mainContainer(deployment(name)).env ?? []).map((v: any) => v.name)).not.toContain('KEYS_LOG_SIGNING_KEY');
    }
  });

  test('messaging and moderation read the franking keyring from parley-franking; no other service has it', () => {
    for (const name of SERVICES) {
      const env = mainContainer(deployment(name)).env ?? [];
      const refs = ['FRANKING_KEYS', 'FRANKING_ACTIVE_KEY_ID'].map((v) => env.find((e: any) => e.name === v)?.valueFrom?.secretKeyRef);
      if (name === 'messaging' || name === 'moderation') {
        expect([name, refs.map((r) => r?.key)]).toEqual([name, ['keys', 'active-key-id']]);
        expect([name, refs.map((r) => isGeneratedFrom(r?.name ?? '', 'parley-franking'))]).toEqual([name, [true, true]]);
      } else {
        expect([name, refs]).toEqual([name, [undefined, undefined]]);
      }
    }
  });

  test.each(SERVICES)('%s reads CLIENT_ADDRESS_SECRET (and the optional previous one) from parley-client-address-secret', (name) => {
    const env = mainContainer(deployment(name)).env ?? [];
    const current = env.find((v: any) => v.name === 'CLIENT_ADDRESS_SECRET')?.valueFrom?.secretKeyRef;
    const previous = env.find((v: any) => v.name === 'CLIENT_ADDRESS_PREVIOUS_SECRET')?.valueFrom?.secretKeyRef;
    expect([current?.key, current?.optional, previous?.key, previous?.optional]).toEqual(['current', undefined, 'previous', true]);
    expect([isGeneratedFrom(current?.name ?? '', 'parley-client-address-secret'), isGeneratedFrom(previous?.name ?? '', 'parley-client-address-secret')]).toEqual([true, true]);
  });

  test('every referenced ConfigMap is rendered; every referenced Secret is rendered or operator-created', () => {
    const rendered = new Set(objects.map(id));
    for (const ref of references(objects)) {
      const present = rendered.has(`${ref.kind}/${ref.name}`);
      const allowed = present || (ref.kind === 'Secret' && OPERATOR_SECRETS.has(ref.name));
      expect([ref.from, `${ref.kind}/${ref.name}`, allowed]).toEqual([ref.from, `${ref.kind}/${ref.name}`, true]);
    }
  });

  test('shared configuration is complete', () => {
    for (const name of SERVICES) {
      const env = literalEnvironment(objects, mainContainer(deployment(name)));
      for (const key of ['LOG_LEVEL', 'NATS_URL', 'EVENT_PREFIX', 'EVENT_STREAM_REPLICAS', 'AUTH_URL', 'SHUTDOWN_GRACE_SECONDS',
        'DATABASE_CREATE_IF_MISSING']) {
        expect([name, key, env[key]]).toEqual([name, key, expect.any(String)]);
      }
      expect(env.AUTH_URL).toBe(`http://auth:${RPC_PORT}`);
      expect(env.NATS_URL).toBe('nats://nats:4222');
    }
    const auth = literalEnvironment(objects, mainContainer(deployment('auth')));
    expect(auth).toEqual(
      expect.objectContaining({ ACCESS_TOKEN_TTL_SECONDS: '900', REFRESH_TOKEN_TTL_SECONDS: '2592000', BCRYPT_COST: '12' }),
    );
    const edge = literalEnvironment(objects, mainContainer(deployment('edge')));
    // The edge routes ConversationService to messaging and KeyService to keys.
    expect(edge.MESSAGING_URL).toBe(`http://messaging:${RPC_PORT}`);
    expect(edge.KEYS_URL).toBe(`http://keys:${RPC_PORT}`);
    expect(edge.CORS_ALLOWED_ORIGINS).toMatch(/^\S+$/);
    expect(edge.CORS_ALLOWED_ORIGINS!.split(',').every((origin) => /^https?:\/\/[^/]+$/.test(origin))).toBe(true);
  });

  // --- PostgreSQL and NATS -------------------------------------------------------------------

  test('a CloudNativePG cluster parley-pg with a database per service that owns one', () => {
    const clusters = objects.filter((o) => typeOf(o) === 'postgresql.cnpg.io/v1/Cluster');
    expect(clusters.map((c) => c.metadata.name)).toEqual(['parley-pg']);
    const databases = objects.filter((o) => typeOf(o) === 'postgresql.cnpg.io/v1/Database');
    expect(databases.map((db) => db.spec.name).sort()).toEqual(DB_SERVICES.map((s) => `parley_${s}`).sort());
    for (const db of databases) expect(db.spec.cluster.name).toBe('parley-pg');
  });

  test('the NATS Helm values enable JetStream on file storage with enough servers for the stream replicas', () => {
    const valuesFile = path.join(dir, 'nats-values.yaml');
    expect(existsSync(valuesFile)).toBe(true);
    const values = parse(readFileSync(valuesFile, 'utf8'));
    expect(values.config.jetstream.enabled).toBe(true);
    expect(values.config.jetstream.fileStore?.enabled ?? true).toBe(true);
    expect(values.config.jetstream.fileStore?.pvc?.enabled ?? true).toBe(true);
    const servers = values.config.cluster?.enabled ? values.config.cluster.replicas : 1;
    for (const name of SERVICES) {
      const replicas = Number(literalEnvironment(objects, mainContainer(deployment(name))).EVENT_STREAM_REPLICAS);
      expect(replicas).toBeGreaterThanOrEqual(1);
      expect(replicas).toBeLessThanOrEqual(servers);
    }
  });

  // --- monitoring and backups ------------------------------------------------------------------

  test('monitoring: a ServiceMonitor per service, on its Service alone, scraping the metrics port', () => {
    const monitors = ofKind(objects, 'ServiceMonitor');
    if (!OVERLAY_EXPECTATIONS[overlay]!.monitoring) return expect(monitors).toEqual([]);
    expect(monitors).toHaveLength(SERVICES.length);
    const services = ofKind(objects, 'Service');
    for (const name of SERVICES) {
      const service = named(objects, 'Service', name);
      const monitor = monitors.find((m) => matches(m.spec.selector.matchLabels, service.metadata.labels));
      expect([name, services.filter((s) => matches(monitor!.spec.selector.matchLabels, s.metadata.labels)).map((s) => s.metadata.name)]).toEqual([name, [name]]);
      expect([name, monitor!.spec.endpoints.map((e: any) => [e.port, e.path])]).toEqual([name, [['metrics', '/metrics']]]);
      expect(service.spec.ports.find((p: any) => p.name === 'metrics')?.port).toBe(METRICS_PORT);
    }
  });

  test('monitoring: the SLO alerts read metrics the services export, each with its runbook section', () => {
    const rules = ofKind(objects, 'PrometheusRule');
    if (!OVERLAY_EXPECTATIONS[overlay]!.monitoring) return expect(rules).toEqual([]);
    const alerts = rules.flatMap((r) => r.spec.groups.flatMap((g: any) => g.rules)).filter((r: any) => r.alert);
    expect(alerts.map((a: any) => a.alert)).toEqual(expect.arrayContaining(SLO_ALERTS));
    const exported = exportedMetrics();
    const anchors = headingAnchors(path.join(K8S_DIR, 'README.md'));
    for (const alert of alerts) {
      expect([alert.alert, unknownMetrics(alert.expr, exported)]).toEqual([alert.alert, []]);
      expect([alert.alert, alert.labels?.severity]).toEqual([alert.alert, expect.stringMatching(/^(warning|critical)$/)]);
      const anchor = String(alert.annotations?.runbook_url).split('#')[1];
      expect([alert.alert, anchors.has(anchor!)]).toEqual([alert.alert, true]);
    }
  });

  test('monitoring: a Grafana dashboard whose panels read metrics the services export', () => {
    const dashboards = ofKind(objects, 'ConfigMap').filter((c) => c.metadata.labels?.grafana_dashboard === '1');
    if (!OVERLAY_EXPECTATIONS[overlay]!.monitoring) return expect(dashboards).toEqual([]);
    expect(dashboards).toHaveLength(1);
    const dashboard = JSON.parse(Object.values(dashboards[0]!.data as Record<string, string>)[0]!);
    const exprs: string[] = dashboard.panels.flatMap((p: any) => p.targets.map((t: any) => t.expr));
    expect(exprs.length).toBeGreaterThan(0);
    const exported = exportedMetrics();
    expect(exprs.flatMap((e) => unknownMetrics(e, exported))).toEqual([]);
    // Every metric issue 16 names has a panel.
    for (const metric of ['parley_edge_send_to_deliver_seconds', 'parley_messaging_queued_deliveries', 'parley_messaging_oldest_queued_delivery_age_seconds',
      'parley_outbox_oldest_event_age_seconds', 'parley_consumer_pending_events', 'parley_events_consumed_total', 'parley_edge_streams_open',
      'parley_rpc_server_handled_total', 'parley_rpc_server_handling_seconds']) {
      expect([metric, exprs.some((e) => e.includes(metric))]).toEqual([metric, true]);
    }
  });

  test('backups: parley-pg archives to object storage with credentials from a Secret, on a schedule', () => {
    const cluster = named(objects, 'Cluster', 'parley-pg');
    const scheduled = objects.filter((o) => typeOf(o) === 'postgresql.cnpg.io/v1/ScheduledBackup');
    if (!OVERLAY_EXPECTATIONS[overlay]!.backups) {
      expect(cluster.spec.backup).toBeUndefined();
      return expect(scheduled).toEqual([]);
    }
    const store = cluster.spec.backup.barmanObjectStore;
    expect(store.destinationPath).toMatch(/^(s3|gs|https):\/\/\S+/);
    expect(cluster.spec.backup.retentionPolicy).toMatch(/^\d+[dwm]$/);
    expect(references(objects).filter((r) => r.from === id(cluster) && r.name === store.s3Credentials.accessKeyId.name)).toHaveLength(2);
    expect(OPERATOR_SECRETS.has(store.s3Credentials.secretAccessKey.name)).toBe(true);
    expect(scheduled.map((b) => [b.spec.cluster.name, b.spec.method])).toEqual([['parley-pg', 'barmanObjectStore']]);
  });

  // --- what this particular overlay promises ---------------------------------------------------

  test('matches its documented settings', () => {
    const expected = OVERLAY_EXPECTATIONS[overlay];
    if (!expected) throw new Error(`add the expectations for overlay "${overlay}" to OVERLAY_EXPECTATIONS`);

    expect(ofKind(objects, 'Namespace')[0]?.metadata.name).toBe(expected.namespace);
    const env = literalEnvironment(objects, mainContainer(deployment('auth')));
    expect(env.LOG_LEVEL).toBe(expected.logLevel);
    expect(Number(env.EVENT_STREAM_REPLICAS)).toBe(expected.streamReplicas);
    expect(named(objects, 'Cluster', 'parley-pg').spec.instances).toBe(expected.postgresInstances);
    for (const [name, replicas] of Object.entries(expected.replicas)) {
      const d = deployment(name);
      if (replicas === 'autoscaled') {
        const hpa = ofKind(objects, 'HorizontalPodAutoscaler').find((h) => h.spec.scaleTargetRef.name === name);
        expect([name, hpa?.spec.minReplicas]).toEqual([name, expect.any(Number)]);
      } else {
        expect([name, d.spec.replicas]).toEqual([name, replicas]);
      }
    }
    // The overlay's own labels, on objects and pods, never in selectors.
    for (const d of deployments) {
      expect(d.metadata.labels?.['app.kubernetes.io/instance']).toBeDefined();
      expect(d.spec.template.metadata.labels['app.kubernetes.io/instance']).toBe(d.metadata.labels?.['app.kubernetes.io/instance']);
      expect(Object.keys(d.spec.selector.matchLabels)).not.toContain('app.kubernetes.io/instance');
    }
    expect(ofKind(objects, 'Ingress').length > 0).toBe(expected.ingress);
    // Behind the Ingress, the client's address is the entry ingress-nginx appends to X-Forwarded-For.
    const edgeEnv = literalEnvironment(objects, mainContainer(deployment('edge')));
    expect(edgeEnv.EDGE_TRUSTED_PROXY_HOPS ?? '0').toBe(expected.ingress ? '1' : '0');

    const secrets = ofKind(objects, 'Secret');
    if (expected.secrets === 'operator') {
      expect(secrets.map(id)).toEqual([]);
    } else {
      const rendered = new Set(objects.map(id));
      expect(references(objects).filter((r) => !rendered.has(`${r.kind}/${r.name}`))).toEqual([]);
      // Generated database URLs point at the cluster's read-write Service and the service's own database.
      for (const name of DB_SERVICES) {
        const secret = secrets.find((s) => isGeneratedFrom(s.metadata.name, `parley-${name}-db`));
        const url = new URL(decode(secret!, 'url'));
        expect([name, url.protocol, url.hostname, url.pathname]).toEqual([name, 'postgres:', 'parley-pg-rw', `/parley_${name}`]);
      }
      const signing = secrets.find((s) => isGeneratedFrom(s.metadata.name, 'parley-auth-signing-key'));
      const jwk = JSON.parse(decode(signing!, 'jwk'));
      expect(jwk).toEqual(expect.objectContaining({ kty: 'OKP', crv: 'Ed25519', d: expect.any(String), x: expect.any(String) }));
      expect(jwk.kid).toMatch(/dev-only/);
      const logKey = secrets.find((s) => isGeneratedFrom(s.metadata.name, 'parley-keys-log-signing-key'));
      expect(Buffer.from(decode(logKey!, 'key'), 'base64')).toHaveLength(64);
    }
  });
});
