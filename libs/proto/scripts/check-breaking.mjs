// Fails when proto/ breaks wire or source compatibility with the contracts on branch main.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
// buf and protoc-gen-es come from this workspace's node_modules, however the script is started.
process.env.PATH = `${join(root, 'node_modules/.bin')}:${process.env.PATH}`;
try {
  execFileSync('git', ['rev-parse', '--verify', '--quiet', 'main:proto'], { cwd: root, stdio: 'ignore' });
} catch {
  console.log('branch main has no proto/ yet: nothing to compare against');
  process.exit(0);
}
// Our contracts only, as images: the vendored third_party module is a second module of the
// workspace, which buf can't compare against a one-module main, and is not ours to hold to rules.
const ours = ['grpc', 'parley'];
const dir = mkdtempSync(join(tmpdir(), 'parley-breaking-'));
try {
  const build = (input, out) => execFileSync('buf', ['build', input, ...ours.flatMap((p) => ['--path', p]), '-o', out], { cwd: join(root, 'proto'), stdio: 'inherit' });
  build('.', join(dir, 'now.binpb'));
  build('../.git#branch=main,subdir=proto', join(dir, 'main.binpb'));
  const { breaking } = parse(readFileSync(join(root, 'proto/buf.yaml'), 'utf8'));
  const config = JSON.stringify({ version: 'v2', breaking });
  execFileSync('buf', ['breaking', join(dir, 'now.binpb'), '--against', join(dir, 'main.binpb'), '--config', config], { cwd: root, stdio: 'inherit' });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log('proto/ is compatible with main');
