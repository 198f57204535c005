import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, PASSWORD, uniqueUsername, type TestStack } from '@parley/testing';
import type { IncomingMessage } from '../src/content';
import { createNodeClient, type NodeClientOptions, type ParleyClient, type SqliteStore } from '../src/node';

/** One device of a test user: an SDK client with its own state directory. */
export interface TestDevice {
  client: ParleyClient;
  store: SqliteStore;
  dir: string;
  /** Everything the inbox handed over, in order; each is stored() at once. */
  received: IncomingMessage[];
}

const devices: TestDevice[] = [];

export function newDevice(edgeUrl: string | (() => string), opts: Partial<NodeClientOptions> & { dir?: string } = {}): TestDevice {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'parley-sdk-'));
  const { client, store } = createNodeClient({ edgeUrl: typeof edgeUrl === 'string' ? edgeUrl : edgeUrl(), stateDir: dir, keys: { batchSize: 20 }, ...opts });
  const device: TestDevice = { client, store, dir, received: [] };
  devices.push(device);
  return device;
}

/** Starts the device's inbox, recording and storing every message. */
export async function listen(device: TestDevice): Promise<void> {
  device.client.on('message', (m) => {
    device.received.push(m);
    m.stored();
  });
  await device.client.inbox.start();
}

/** Registers a new user on a fresh device and publishes its keys. */
export async function signedUp(stack: TestStack, prefix: string): Promise<TestDevice & { username: string }> {
  const device = newDevice(stack.edgeUrl);
  const username = uniqueUsername(prefix);
  await device.client.register({ username, password: PASSWORD });
  await device.client.publishKeys();
  return { ...device, username };
}

export function texts(device: TestDevice, conversationId?: string): string[] {
  return device.received
    .filter((m) => !conversationId || m.conversationId === conversationId)
    .map((m) => (m.content.kind === 'text' ? m.content.text : `<${m.content.kind}>`));
}

export async function untilReceived(device: TestDevice, n: number, timeoutMs = 60_000): Promise<void> {
  await eventually(async () => device.received.length, (count) => count >= n, timeoutMs);
}

/** Opens a direct conversation once messaging has learnt both users from auth's events. */
export async function openDirect(from: TestDevice, toUserId: string): Promise<string> {
  const conversation = await eventually(
    () => from.client.openDirect(toUserId).catch((err: Error) => err),
    (res) => !(res instanceof Error && 'code' in res && res.code === 5),
  );
  if (conversation instanceof Error) throw conversation;
  return conversation.id;
}

export async function closeDevices(): Promise<void> {
  for (const device of devices.splice(0)) {
    await device.client.close();
    device.store.close();
    rmSync(device.dir, { recursive: true, force: true });
  }
}
