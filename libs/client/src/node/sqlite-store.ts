import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { ClientStore, LoggedMessage } from '../store.js';

/**
 * The client's state on disk, in SQLite through node:sqlite (built into Node 24: no native
 * addon to build, and one file per concern that survives a crash thanks to SQLite's journal).
 * SQLite rather than files of JSON because decrypting a message advances libsignal's session and
 * logs the plaintext, and both must commit together: a transaction gives exactly that.
 *
 * Two databases in `dir`:
 * - `signal.db`: libsignal's stores (sessions, identities, prekeys) and the message log; the
 *   decrypt-and-log transaction covers only this file.
 * - `state.db`: the session, profile and key-transparency head, written at any time (a token
 *   refresh must never be rolled back with a failed decrypt).
 */
export class SqliteStore implements ClientStore {
  readonly signal: DatabaseSync;
  private readonly state: DatabaseSync;
  private inTransaction = false;

  /** Opens (creating if needed) the store in `dir`; ':memory:' keeps it in memory. */
  constructor(dir: string) {
    const path = (file: string) => (dir === ':memory:' ? ':memory:' : join(dir, file));
    if (dir !== ':memory:') mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.signal = new DatabaseSync(path('signal.db'));
    this.state = new DatabaseSync(path('state.db'));
    for (const db of [this.signal, this.state]) db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;');
    this.state.exec('CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL)');
    this.signal.exec(`
      CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS session (address TEXT PRIMARY KEY, record BLOB NOT NULL);
      CREATE TABLE IF NOT EXISTS identity (address TEXT PRIMARY KEY, public_key BLOB NOT NULL);
      CREATE TABLE IF NOT EXISTS pre_key (id INTEGER PRIMARY KEY, record BLOB NOT NULL);
      CREATE TABLE IF NOT EXISTS signed_pre_key (id INTEGER PRIMARY KEY, record BLOB NOT NULL);
      CREATE TABLE IF NOT EXISTS kyber_pre_key (id INTEGER PRIMARY KEY, record BLOB NOT NULL, last_resort INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS message (
        delivery_id TEXT PRIMARY KEY, conversation_id TEXT NOT NULL, message_id TEXT NOT NULL, seq INTEGER NOT NULL,
        sender_user_id TEXT NOT NULL, sender_device_id INTEGER NOT NULL, server_time INTEGER NOT NULL,
        content TEXT NOT NULL, stored INTEGER NOT NULL);
      CREATE INDEX IF NOT EXISTS message_by_conversation ON message (conversation_id, seq);
    `);
  }

  getValue<T>(key: string): T | undefined {
    const row = this.state.prepare('SELECT value FROM kv WHERE key = ?').get(key) as { value: string } | undefined;
    return row ? (JSON.parse(row.value) as T) : undefined;
  }
  setValue(key: string, value: unknown): void {
    this.state.prepare('INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, JSON.stringify(value));
  }
  deleteValue(key: string): void {
    this.state.prepare('DELETE FROM kv WHERE key = ?').run(key);
  }

  /** A value of libsignal's own (the identity, key ids), written inside its transactions. */
  getSignalValue<T>(key: string): T | undefined {
    const row = this.signal.prepare('SELECT value FROM kv WHERE key = ?').get(key) as { value: string } | undefined;
    return row ? (JSON.parse(row.value) as T) : undefined;
  }
  setSignalValue(key: string, value: unknown): void {
    this.signal.prepare('INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, JSON.stringify(value));
  }

  logMessage(m: LoggedMessage): void {
    this.signal
      .prepare('INSERT OR IGNORE INTO message VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run(m.deliveryId, m.conversationId, m.messageId, BigInt(m.seq), m.senderUserId, m.senderDeviceId, m.serverTime, m.content, m.stored ? 1 : 0);
  }
  loggedMessage(deliveryId: string): LoggedMessage | undefined {
    const row = this.signal.prepare('SELECT * FROM message WHERE delivery_id = ?').get(deliveryId);
    return row ? messageOf(row) : undefined;
  }
  markStored(deliveryIds: readonly string[]): void {
    const mark = this.signal.prepare('UPDATE message SET stored = 1 WHERE delivery_id = ?');
    for (const id of deliveryIds) mark.run(id);
  }
  conversationLog(conversationId: string, limit: number): LoggedMessage[] {
    const rows = this.signal.prepare('SELECT * FROM message WHERE conversation_id = ? ORDER BY seq DESC LIMIT ?').all(conversationId, limit);
    return rows.map(messageOf).reverse();
  }

  /** Runs `fn` in one transaction of signal.db; nested calls join the outer one. */
  async atomically<T>(fn: () => Promise<T>): Promise<T> {
    if (this.inTransaction) return fn();
    this.signal.exec('BEGIN IMMEDIATE');
    this.inTransaction = true;
    try {
      const result = await fn();
      this.signal.exec('COMMIT');
      return result;
    } catch (err) {
      this.signal.exec('ROLLBACK');
      throw err;
    } finally {
      this.inTransaction = false;
    }
  }

  /** Closes both databases; closing again does nothing. */
  close(): void {
    for (const db of [this.signal, this.state]) if (db.isOpen) db.close();
  }
}

function messageOf(row: Record<string, unknown>): LoggedMessage {
  return {
    deliveryId: String(row.delivery_id),
    conversationId: String(row.conversation_id),
    messageId: String(row.message_id),
    seq: String(row.seq),
    senderUserId: String(row.sender_user_id),
    senderDeviceId: Number(row.sender_device_id),
    serverTime: Number(row.server_time),
    content: String(row.content),
    stored: row.stored === 1,
  };
}
