/**
 * scripts/preflight.mjs, run as `npm test` runs it, with a PATH of stand-in programs: each case
 * leaves one out or makes it the wrong version, and reads what the preflight says.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../../..');
const PREFLIGHT = join(ROOT, 'libs/stack/scripts/preflight.mjs');
const PINNED_NODE = `v${JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).devDependencies.node}`;

type Tool = 'node' | 'git' | 'diff' | 'nats-server' | 'kubectl' | 'moto_server';

/** Stand-ins that answer the version questions the preflight asks. */
const STAND_INS: Record<Exclude<Tool, 'node'>, string> = {
  git: 'echo "git version 2.39.5"',
  diff: 'echo "diff (GNU diffutils) 3.8"',
  'nats-server': 'echo "nats-server: v2.9.10"',
  kubectl: `echo '{"clientVersion":{"gitVersion":"v1.32.4"},"kustomizeVersion":"v5.5.0"}'`,
  moto_server: 'echo "usage: moto_server [-h]"',
};

let binDir: string;
beforeEach(() => (binDir = mkdtempSync(join(tmpdir(), 'parley-preflight-'))));
afterEach(() => rmSync(binDir, { recursive: true, force: true }));

function install(tool: Tool, script?: string) {
  const path = join(binDir, tool);
  if (tool === 'node' && script === undefined) return symlinkSync(process.execPath, path);
  writeFileSync(path, `#!/bin/sh\n${script ?? STAND_INS[tool as Exclude<Tool, 'node'>]}\n`);
  chmodSync(path, 0o755);
}

/** Runs the preflight with every tool on PATH but `missing`, and `replaced` tools answering as given. */
function preflight(missing: Tool[] = [], replaced: Partial<Record<Tool, string>> = {}) {
  for (const tool of ['node', 'git', 'diff', 'nats-server', 'kubectl', 'moto_server'] as const) {
    if (!missing.includes(tool)) install(tool, replaced[tool]);
  }
  const run = spawnSync(process.execPath, [PREFLIGHT], { env: { PATH: binDir }, encoding: 'utf8' });
  return { status: run.status, lines: run.stderr.split('\n').filter(Boolean) };
}

it('passes in silence when every tool is there', () => {
  expect(preflight()).toEqual({ status: 0, lines: [] });
});

it.each([
  ['kubectl', /^npm test: kubectl is missing \(the k8s manifest tests run `kubectl kustomize`\): install kubectl 1\.27 or newer from https:\/\/kubernetes\.io\//],
  ['nats-server', /^npm test: nats-server is missing \(fault tests start throwaway NATS servers\): install it, e\.g\. `apt-get install -y nats-server`/],
  ['git', /^npm test: git is missing \(proto:test compares proto\/ with branch main\): install it/],
  ['diff', /^npm test: diff is missing \(proto:test compares the generated code\): install diffutils/],
  ['moto_server', /^npm test: moto_server is missing \(media's S3 provider is tested against it\): install it, e\.g\. `pip install 'moto\[server\]'`/],
] as const)('fails in one line naming %s and how to install it when it is not on PATH', (tool, line) => {
  const { status, lines } = preflight([tool]);
  expect(status).toBe(1);
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(line);
});

it('refuses a kubectl whose kustomize is older than v5', () => {
  const { status, lines } = preflight([], { kubectl: `echo '{"clientVersion":{"gitVersion":"v1.25.0"},"kustomizeVersion":"v4.5.7"}'` });
  expect(status).toBe(1);
  expect(lines).toEqual([expect.stringMatching(/^npm test: kubectl has kustomize v4\.5\.7, not v5 \(.*\): install kubectl 1\.27 or newer/)]);
});

it('refuses a node on PATH that is not the pinned one, as when npm ci ran without install scripts', () => {
  const { status, lines } = preflight([], { node: 'echo v20.20.2' });
  expect(status).toBe(1);
  expect(lines).toEqual([`npm test: node on PATH is v20.20.2, not ${PINNED_NODE} (the \`node\` devDependency): run \`npm ci\` with install scripts allowed, and the tests through npm, which puts node_modules/.bin first on PATH`]);
});

it('names every missing tool, one line each', () => {
  const { status, lines } = preflight(['nats-server', 'kubectl']);
  expect(status).toBe(1);
  expect(lines.map((l) => l.split(' ')[2])).toEqual(['nats-server', 'kubectl']);
});
