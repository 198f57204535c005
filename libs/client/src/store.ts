/** A message as the SDK logged it after decrypting: what the app sees again after a crash. */
export interface LoggedMessage {
  deliveryId: string;
  conversationId: string;
  messageId: string;
  seq: string;
  senderUserId: string;
  senderDeviceId: number;
  /** Milliseconds since the epoch, by the server's clock. */
  serverTime: number;
  /** The decrypted content, as JSON. */
  content: string;
  /** Set once the app said it stored the message; the SDK then acks it. */
  stored: boolean;
}

/**
 * The SDK's own state: the session and profile (small JSON values by key) and the message log.
 * `SqliteStore` (Node) keeps it on disk with libsignal's stores; `MemoryStore` keeps it in memory.
 */
export interface ClientStore {
  getValue<T>(key: string): T | undefined;
  setValue(key: string, value: unknown): void;
  deleteValue(key: string): void;
  logMessage(message: LoggedMessage): void;
  loggedMessage(deliveryId: string): LoggedMessage | undefined;
  markStored(deliveryIds: readonly string[]): void;
  /** The log of one conversation, in seq order, at most `limit` of the latest. */
  conversationLog(conversationId: string, limit: number): LoggedMessage[];
}

/** A ClientStore in memory: for browsers (nothing survives a reload) and tests. */
export class MemoryStore implements ClientStore {
  private readonly values = new Map<string, string>();
  private readonly log = new Map<string, LoggedMessage>();

  getValue<T>(key: string): T | undefined {
    const json = this.values.get(key);
    return json === undefined ? undefined : (JSON.parse(json) as T);
  }
  setValue(key: string, value: unknown): void {
    this.values.set(key, JSON.stringify(value));
  }
  deleteValue(key: string): void {
    this.values.delete(key);
  }
  logMessage(message: LoggedMessage): void {
    this.log.set(message.deliveryId, { ...message });
  }
  loggedMessage(deliveryId: string): LoggedMessage | undefined {
    const found = this.log.get(deliveryId);
    return found && { ...found };
  }
  markStored(deliveryIds: readonly string[]): void {
    for (const id of deliveryIds) {
      const found = this.log.get(id);
      if (found) found.stored = true;
    }
  }
  conversationLog(conversationId: string, limit: number): LoggedMessage[] {
    return [...this.log.values()]
      .filter((m) => m.conversationId === conversationId)
      .sort((a, b) => Number(BigInt(a.seq) - BigInt(b.seq)))
      .slice(-limit);
  }
}
