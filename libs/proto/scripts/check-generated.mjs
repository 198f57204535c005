// Fails when libs/proto/src/gen is not what proto/ generates now: regenerate with `nx run proto:generate`.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
// buf and protoc-gen-es come from this workspace's node_modules, however the script is started.
process.env.PATH = `${join(root, 'node_modules/.bin')}:${process.env.PATH}`;
const protoDir = join(root, 'proto');
const committed = join(root, 'libs/proto/src/gen');
const fresh = mkdtempSync(join(tmpdir(), 'parley-gen-'));
try {
  const template = parse(readFileSync(join(protoDir, 'buf.gen.yaml'), 'utf8'));
  for (const plugin of template.plugins) plugin.out = fresh;
  execFileSync('buf', ['generate', '--template', JSON.stringify(template)], { cwd: protoDir, stdio: 'inherit' });
  try {
    execFileSync('diff', ['-r', fresh, committed], { stdio: 'pipe' });
  } catch (err) {
    process.stderr.write(String(err.stdout).slice(0, 4000));
    console.error('\nlibs/proto/src/gen is stale: run `npx nx run proto:generate` and commit the result.');
    process.exit(1);
  }
  console.log('generated code is up to date');
} finally {
  rmSync(fresh, { recursive: true, force: true });
}
