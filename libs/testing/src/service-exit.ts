import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT, type ServiceName } from '@parley/stack';

export interface ServiceExit {
  code: number | null;
  /** What it printed, stdout and stderr, a line each. */
  lines: string[];
}

/** Runs a built service (or one of its commands, `args`) with only `env` (and PATH) until it exits; killed after `timeoutMs`. */
export function runServiceUntilExit(service: ServiceName, env: Record<string, string>, timeoutMs = 30_000, args: string[] = []): Promise<ServiceExit> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(REPO_ROOT, 'services', service, 'dist/main.js'), ...args], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (out += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, lines: out.split('\n').filter(Boolean) });
    });
  });
}
