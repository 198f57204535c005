// Fails when proto/ breaks wire or source compatibility with the contracts on branch main.
import { execFileSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
// buf and protoc-gen-es come from this workspace's node_modules, however the script is started.
process.env.PATH = `${join(root, 'node_modules/.bin')}:${process.env.PATH}`;
try {
  execFileSync('git', ['rev-parse', '--verify', '--quiet', 'main:proto'], { cwd: root, stdio: 'ignore' });
} catch {
  console.log('branch main has no proto/ yet: nothing to compare against');
  process.exit(0);
}
execFileSync('buf', ['breaking', 'proto', '--against', '.git#branch=main,subdir=proto'], { cwd: root, stdio: 'inherit' });
console.log('proto/ is compatible with main');
