import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { createNodeClient } from '../node.js';
import type { ParleyClient } from '../client.js';
import type { SqliteStore } from '../node/sqlite-store.js';

/** The edge `npm start` serves. */
export const DEFAULT_EDGE_URL = 'http://127.0.0.1:8080';

interface ProfileConfig {
  edgeUrl: string;
  /** Usernames this profile has seen, by user id, to show names instead of ids. */
  names: Record<string, string>;
}

/**
 * One CLI profile: a device of its own in `$PARLEY_HOME/profiles/<name>` (default ~/.parley),
 * holding its keys, sessions, message log and settings, so two profiles on one machine are two
 * devices that can chat.
 */
export class Profile {
  readonly dir: string;
  readonly client: ParleyClient;
  readonly store: SqliteStore;
  private readonly config: ProfileConfig;

  constructor(
    readonly name: string,
    edgeUrl: string | undefined,
  ) {
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(name)) throw new Error(`profile names are 1 to 64 letters, digits, '_', '.' or '-': ${name}`);
    this.dir = join(process.env.PARLEY_HOME ?? join(homedir(), '.parley'), 'profiles', name);
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    this.config = { edgeUrl: DEFAULT_EDGE_URL, names: {}, ...this.readConfig() };
    if (edgeUrl) this.config.edgeUrl = edgeUrl;
    this.saveConfig();
    ({ client: this.client, store: this.store } = createNodeClient({ edgeUrl: this.config.edgeUrl, stateDir: this.dir }));
  }

  get edgeUrl(): string {
    return this.config.edgeUrl;
  }

  remember(userId: string, username: string): void {
    if (this.config.names[userId] === username) return;
    this.config.names[userId] = username;
    this.saveConfig();
  }

  /** The username of a user id if this profile has seen it, else a short id. */
  nameOf(userId: string): string {
    if (userId === this.client.account?.userId) return 'me';
    return this.config.names[userId] ?? userId.slice(0, 8);
  }

  async close(): Promise<void> {
    await this.client.close();
    this.store.close();
  }

  private readConfig(): Partial<ProfileConfig> {
    try {
      return JSON.parse(readFileSync(join(this.dir, 'config.json'), 'utf8')) as Partial<ProfileConfig>;
    } catch {
      return {};
    }
  }

  private saveConfig(): void {
    writeFileSync(join(this.dir, 'config.json'), JSON.stringify(this.config, null, 2), { mode: 0o600 });
  }
}
