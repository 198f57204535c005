import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, PASSWORD, startTestStack, uniqueUsername, untilUsersKnown, type TestStack } from '@parley/testing';

// The `parley` terminal client, run as child processes against a running stack: each profile is a
// device of its own in one PARLEY_HOME, as two people on one machine would use it.

jest.setTimeout(300_000);

const CLI = join(__dirname, '../../libs/client/dist/cli/main.js');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

describe('the parley CLI', () => {
  let stack: TestStack;
  let home: string;

  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 'parley-cli-'));
    stack = await startTestStack({ services: ['auth', 'keys', 'messaging', 'edge'], env: { auth: { BCRYPT_COST: '4' } } });
  });
  afterAll(async () => {
    await stack?.cleanup();
    rmSync(home, { recursive: true, force: true });
  });

  const env = () => ({ ...process.env, PARLEY_HOME: home, PARLEY_PASSWORD: PASSWORD });

  function start(profile: string, args: string[]): ChildProcessWithoutNullStreams {
    return spawn(process.execPath, [CLI, '--profile', profile, '--edge', stack.edgeUrl, ...args], { env: env() });
  }

  function parley(profile: string, ...args: string[]): Promise<Run> {
    const child = start(profile, args);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  }

  async function ok(profile: string, ...args: string[]): Promise<string> {
    const run = await parley(profile, ...args);
    if (run.code !== 0) throw new Error(`parley ${args.join(' ')} exited ${run.code}: ${run.stderr}`);
    return run.stdout;
  }

  /** Registers a user on a profile of the same name; returns the username. */
  async function registered(profile: string): Promise<string> {
    const username = uniqueUsername(profile);
    const run = await parley(profile, 'register', username);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`registered ${username}`);
    // The first key upload shows its progress.
    expect(run.stderr).toContain('generating keys 100/100');
    expect(run.stderr).toContain('keys published');
    return username;
  }

  /** `parley inbox` until it printed every one of `lines`, collecting what it printed. */
  async function inboxUntil(profile: string, lines: string[]): Promise<string> {
    let seen = '';
    await eventually(
      async () => (seen += await ok(profile, 'inbox')),
      (all) => lines.every((line) => all.includes(line)),
      60_000,
    );
    return seen;
  }

  async function userIdsKnown(...profiles: string[]): Promise<void> {
    const ids = [];
    for (const p of profiles) ids.push((await ok(p, 'whoami')).match(/\(([0-9a-f-]{36})\)/)![1]!);
    await untilUsersKnown(stack, 'messaging', ids);
  }

  it('two profiles chat: send and inbox, then an interactive chat with receipts', async () => {
    const alice = await registered('alice');
    const bob = await registered('bob');
    await userIdsKnown('alice', 'bob');

    expect(await ok('alice', 'send', bob, 'hello', 'bob')).toMatch(/^sent #1$/m);
    expect(await inboxUntil('bob', ['hello bob'])).toMatch(/\] [0-9a-f]{8}: hello bob/);
    // Once seen, the message is stored and acked: the next look finds nothing new.
    expect(await ok('bob', 'inbox')).toBe('no new messages\n');

    const chat = start('bob', ['chat', alice]);
    let screen = '';
    chat.stdout.on('data', (b: Buffer) => (screen += b.toString()));
    await eventually(async () => screen, (s) => s.includes('chatting in'), 60_000);
    chat.stdin.write('hi alice, from the chat\n');
    await eventually(async () => screen, (s) => s.includes('sent #2'), 60_000);
    await ok('alice', 'send', bob, 'live reply');
    await eventually(async () => screen, (s) => s.includes(`${alice}: live reply`), 60_000);
    chat.stdin.end('/quit\n');
    expect(await new Promise((r) => chat.on('close', r))).toBe(0);

    // Alice sees Bob's line and the read receipt his chat sent for her reply.
    const aliceSaw = await inboxUntil('alice', [`${bob}: hi alice, from the chat`, `${bob} read 1 message(s)`]);
    expect(aliceSaw.indexOf('hi alice, from the chat')).toBeLessThan(aliceSaw.indexOf('read 1 message(s)'));

    // The safety number both sides compute is the same.
    const aliceSide = (await ok('alice', 'safety-number', bob)).trim();
    expect(aliceSide).toMatch(/^(\d{5} ){11}\d{5}$/);
    expect(await ok('bob', 'safety-number', alice, '--compare', aliceSide)).toContain('the safety numbers match');
    const wrong = await parley('bob', 'safety-number', alice, '--compare', '1'.repeat(60));
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toBe('parley: the safety numbers differ: do not trust this conversation (failed_precondition: compare again in person)\n');

    expect(await ok('alice', 'devices')).toMatch(/^1\tparley CLI \(alice\)\t\(this device\)$/m);
  });

  it('a group of three profiles', async () => {
    await registered('carol');
    const [dave, erin] = [await registered('dave'), await registered('erin')];
    await userIdsKnown('carol', 'dave', 'erin');
    const group = (await ok('carol', 'group', 'create', dave, erin)).trim();
    expect(group).toMatch(/^group:[0-9a-f-]{36}$/);
    await ok('carol', 'send', group, 'hello both');
    await inboxUntil('dave', ['hello both']);
    await ok('dave', 'send', group, 'hi from dave');
    const erinSaw = await inboxUntil('erin', ['hello both', 'hi from dave']);
    expect(erinSaw.indexOf('hello both')).toBeLessThan(erinSaw.indexOf('hi from dave'));
    await inboxUntil('carol', ['hi from dave']);
  });

  it('fails in one clear line', async () => {
    const unknown = await parley('nobody', 'send', 'no_such_user_here', 'hi');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^parley: not logged in \(unauthenticated: log in again[^\n]*\)\n$/);
    const bad = await parley('nobody', 'frobnicate');
    expect(bad.stderr).toBe('parley: unknown command "frobnicate": see parley help\n');
    const down = await parley('nobody2', '--edge', 'http://127.0.0.1:9', 'register', uniqueUsername('x'));
    expect(down.code).toBe(1);
    expect(down.stderr.split('\n')).toHaveLength(2);
    expect(down.stderr).toMatch(/^parley: .*\(unavailable: the server is unreachable: retry later\)\n$/);
  });
});
