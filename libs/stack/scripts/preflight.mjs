// `npm test`'s first step, before anything builds: checks that the programs the tests run are
// installed, and for each one that is not, prints one line naming it and how to install it.
// Plain JavaScript, so that it runs before the TypeScript is compiled.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const pinnedNode = `v${JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).devDependencies.node}`;

/** What `command args` prints, or undefined when it is not on PATH or fails. */
function output(command, args) {
  const run = spawnSync(command, args, { encoding: 'utf8', timeout: 30_000 });
  return run.status === 0 ? run.stdout.trim() : undefined;
}

/** Each check returns undefined when all is well, or the one line that says what to do. */
const checks = [
  () => {
    const version = output('node', ['--version']);
    if (version === pinnedNode) return undefined;
    return `node on PATH is ${version ?? 'missing'}, not ${pinnedNode} (the \`node\` devDependency): run \`npm ci\` with install scripts allowed, and the tests through npm, which puts node_modules/.bin first on PATH`;
  },
  () =>
    output('git', ['--version'])
      ? undefined
      : 'git is missing (proto:test compares proto/ with branch main): install it, e.g. `apt-get install -y git`',
  () =>
    output('diff', ['--version'])
      ? undefined
      : 'diff is missing (proto:test compares the generated code): install diffutils, e.g. `apt-get install -y diffutils`',
  () =>
    output('nats-server', ['--version'])
      ? undefined
      : 'nats-server is missing (fault tests start throwaway NATS servers): install it, e.g. `apt-get install -y nats-server` or `brew install nats-server`',
  () =>
    output('moto_server', ['--help'])
      ? undefined
      : "moto_server is missing (media's S3 provider is tested against it): install it, e.g. `pip install 'moto[server]'`",
  () => {
    const json = output('kubectl', ['version', '--client', '-o', 'json']);
    const kustomize = json === undefined ? undefined : (JSON.parse(json).kustomizeVersion ?? 'none');
    if (kustomize?.startsWith('v5.')) return undefined;
    const found = json === undefined ? 'kubectl is missing' : `kubectl has kustomize ${kustomize}, not v5`;
    return `${found} (the k8s manifest tests run \`kubectl kustomize\`): install kubectl 1.27 or newer from https://kubernetes.io/docs/tasks/tools/ (Debian's kubernetes-client is too old)`;
  },
];

const problems = checks.map((check) => check()).filter((line) => line !== undefined);
for (const line of problems) process.stderr.write(`npm test: ${line}\n`);
process.exit(problems.length === 0 ? 0 : 1);
