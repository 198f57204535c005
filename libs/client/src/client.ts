import { Code, createClient, type Client, type Interceptor, type Transport } from '@connectrpc/connect';
import {
  AuthService,
  ContactService,
  ConversationService,
  DeliveryService,
  DeviceService,
  KeyService,
  MessageService,
  type Contact,
  type ContactRequest,
  type Conversation,
  type Device,
  type LinkedDevice,
  type SendMessageResponse,
  type Session as ServerSession,
  type User,
} from '@parley/proto';
import { systemClock, type Clock } from './clock.js';
import type { Content } from './content.js';
import type { PeerDevice, SignalCrypto } from './crypto.js';
import { Emitter } from './emitter.js';
import { call, ParleyError } from './errors.js';
import type { ClientEvents } from './events.js';
import { Inbox, type InboxOptions } from './inbox.js';
import { KeyTransparency } from './key-transparency.js';
import { KeyManager, type KeyOptions, type KeyProgress } from './keys.js';
import { Lock } from './lock.js';
import { MessageSender, type SendOptions, type SenderOptions } from './sender.js';
import { Session, type Account, type SessionOptions } from './session.js';
import type { ClientStore } from './store.js';

/** Makes the transport every call goes through, with the SDK's interceptors (the bearer token). */
export type TransportFactory = (interceptors: Interceptor[]) => Transport;

export interface ParleyClientOptions {
  /** `nodeTransport(url)` from `@parley/client/node`, or `webTransport(url)` from `@parley/client/web`. */
  transport: TransportFactory;
  crypto: SignalCrypto;
  store: ClientStore;
  clock?: Clock;
  /** Solves Register's proof of work when the server asks for one (Node: built in). */
  solveProofOfWork?: (challenge: string, difficultyBits: number) => Uint8Array;
  /** The operator's key-transparency log key; pinned on first use when not given. */
  logPublicKey?: Uint8Array;
  session?: SessionOptions;
  keys?: KeyOptions;
  send?: SenderOptions;
  inbox?: InboxOptions;
}

/** The outcome of redeeming a link code on a new device. */
export type LinkOutcome = { linked: true; verificationCode: string } | { linked: false; verificationCode: string; approvalSecret: string };

/**
 * One Parley device, as an app runs it: sign in, keep keys published, send and receive end-to-end
 * encrypted messages. Create it with `createNodeClient` (`@parley/client/node`) or with your own
 * transport, crypto and store. Listen with `on`, read messages from `inbox`.
 */
export class ParleyClient {
  private readonly events = new Emitter<ClientEvents>();
  private readonly clock: Clock;
  private readonly session: Session;
  private readonly auth: Client<typeof AuthService>;
  private readonly deviceService: Client<typeof DeviceService>;
  private readonly contactService: Client<typeof ContactService>;
  private readonly conversationService: Client<typeof ConversationService>;
  private readonly messageService: Client<typeof MessageService>;
  private readonly lock = new Lock();
  /** Key transparency: the log's signed heads and the proofs of every fetched key. */
  readonly transparency: KeyTransparency;
  /** This device's keys on the server. */
  readonly keys: KeyManager;
  private readonly sender: MessageSender;
  /** Incoming messages: start it, then iterate it or listen per conversation. */
  readonly inbox: Inbox;

  constructor(private readonly opts: ParleyClientOptions) {
    this.clock = opts.clock ?? systemClock;
    const anonymous = opts.transport([]);
    const authClient = createClient(AuthService, anonymous);
    this.session = new Session(authClient, opts.store, this.clock, this.events, opts.session);
    const transport = opts.transport([this.session.interceptor]);
    this.auth = createClient(AuthService, transport);
    this.deviceService = createClient(DeviceService, transport);
    this.contactService = createClient(ContactService, transport);
    this.conversationService = createClient(ConversationService, transport);
    this.messageService = createClient(MessageService, transport);
    const keyService = createClient(KeyService, transport);
    this.transparency = new KeyTransparency(keyService, opts.store, this.events, opts.logPublicKey);
    this.keys = new KeyManager(keyService, opts.crypto, this.transparency, this.clock, opts.keys);
    this.sender = new MessageSender(this.messageService, opts.crypto, this.keys, this.lock, this.clock, this.events, opts.send);
    this.inbox = new Inbox(createClient(DeliveryService, transport), this.messageService, opts.crypto, opts.store, this.lock, this.events, this.clock, {
      preKeysLow: () => this.keys.topUp(),
      refreshSession: () => this.session.refresh(),
    }, opts.inbox);
    opts.crypto.onIdentityChanged((peer) => this.events.emit('safetyNumberChanged', peer));
  }

  /** Listens to a client event; returns the function that stops listening. */
  on<K extends keyof ClientEvents>(event: K, listener: ClientEvents[K]): () => void {
    return this.events.on(event, listener);
  }

  /** Who this client is signed in as; undefined before register, login or link. */
  get account(): Account | undefined {
    return this.session.account;
  }

  /** Whether there is a session (it may still be refused at the next refresh). */
  get loggedIn(): boolean {
    return this.session.tokens() !== undefined;
  }

  // --- Sessions ---

  /** Creates an account with this device as its primary device and signs in. Publish keys next. */
  async register(args: { username: string; password: string; deviceName?: string }): Promise<User> {
    const challenge = await call(() => this.auth.getRegistrationChallenge({}));
    let challengeSolution: Uint8Array = new Uint8Array();
    if (challenge.difficultyBits > 0) {
      if (!this.opts.solveProofOfWork) throw new ParleyError('the server asks for a proof of work and this client has no solver', Code.FailedPrecondition, 'pass solveProofOfWork');
      challengeSolution = this.opts.solveProofOfWork(challenge.challenge, challenge.difficultyBits);
    }
    const res = await call(() =>
      this.auth.register({ ...args, deviceName: args.deviceName ?? '', registrationId: this.opts.crypto.registrationId(), challenge: challenge.challenge, challengeSolution }),
    );
    this.begin(res.user, res.device, res.deviceSecret, res.tokens);
    return res.user!;
  }

  /**
   * Signs in with the password: this device again if it has signed in before (its device secret
   * is in the store), else as a new device of the account (publish keys next).
   */
  async login(args: { username: string; password: string; deviceName?: string }): Promise<{ user: User; newDevice: boolean }> {
    const known = this.session.account;
    const again = known && known.username === args.username ? known : undefined;
    const res = await call(() =>
      this.auth.login({
        username: args.username,
        password: args.password,
        deviceId: again?.deviceId ?? 0,
        deviceSecret: again?.deviceSecret ?? '',
        registrationId: again ? 0 : this.opts.crypto.registrationId(),
        deviceName: again ? '' : (args.deviceName ?? ''),
        identityKey: again ? new Uint8Array() : this.opts.crypto.identityKey(),
      }),
    );
    this.begin(res.user, res.device, res.deviceSecret || again?.deviceSecret || '', res.tokens);
    return { user: res.user!, newDevice: !again };
  }

  /** Ends this session on the server and here; `loggedOut` fires. */
  async logout(): Promise<void> {
    await this.inbox.stop();
    await this.session.logout();
  }

  /** The account's open sessions. */
  async sessions(): Promise<ServerSession[]> {
    return (await call(() => this.auth.listSessions({}))).sessions;
  }

  /** Ends one session of the account (another device's, typically). */
  async revokeSession(sessionId: string): Promise<void> {
    await call(() => this.auth.revokeSession({ sessionId }));
  }

  // --- Devices ---

  /** The account's devices; `current` marks this one. */
  async devices(): Promise<Device[]> {
    return (await call(() => this.deviceService.listDevices({}))).devices;
  }

  /** Renames one of the account's devices. */
  async renameDevice(deviceId: number, name: string): Promise<Device> {
    return (await call(() => this.deviceService.renameDevice({ deviceId, name }))).device!;
  }

  /** Unlinks a device: its sessions end and its keys and queue go. Not the primary device. */
  async revokeDevice(deviceId: number): Promise<void> {
    await call(() => this.deviceService.revokeDevice({ deviceId }));
  }

  /** On a signed-in device: a single-use code for a new device to redeem. */
  async createLinkCode(): Promise<{ code: string; expiresAt: Date | undefined }> {
    const res = await call(() => this.deviceService.createLinkCode({}));
    return { code: res.code, expiresAt: res.expiresAt && new Date(Number(res.expiresAt.seconds) * 1000) };
  }

  /**
   * On the new device: redeems a link code. With the password it is linked at once; without,
   * show `verificationCode` and wait for `approveLink` on a signed-in device, then `completeLink`.
   */
  async linkDevice(args: { code: string; deviceName: string; password?: string }): Promise<LinkOutcome> {
    const res = await call(() =>
      this.deviceService.linkDevice({ ...args, password: args.password ?? '', registrationId: this.opts.crypto.registrationId(), identityKey: this.opts.crypto.identityKey() }),
    );
    if (res.outcome.case === 'linked') {
      this.beginLinked(res.outcome.value);
      return { linked: true, verificationCode: res.verificationCode };
    }
    return { linked: false, verificationCode: res.verificationCode, approvalSecret: res.outcome.value ?? '' };
  }

  /** On a signed-in device: approves the new device showing `verificationCode`; returns the name it asked for. */
  async approveLink(code: string, verificationCode: string): Promise<string> {
    return (await call(() => this.deviceService.approveLink({ code, verificationCode }))).deviceName;
  }

  /** On the new device, once approved: finishes the link and signs in. */
  async completeLink(approvalSecret: string): Promise<void> {
    const res = await call(() => this.deviceService.completeLink({ approvalSecret }));
    this.beginLinked(res.linked!);
  }

  // --- Contacts ---

  /** Users by username: exact, or by prefix. */
  async searchUsers(query: string, prefix = false): Promise<User[]> {
    return (await call(() => this.contactService.searchUsers({ query, prefix }))).users;
  }

  /** The user with exactly this username; NOT_FOUND if there is none. */
  async userByName(username: string): Promise<User> {
    const found = (await this.searchUsers(username)).find((u) => u.username === username);
    if (!found) throw new ParleyError(`no user is called ${username}`, Code.NotFound, 'check the username');
    return found;
  }

  /** Sends a contact request; true if the other side had asked too, so you are contacts now. */
  async requestContact(userId: string): Promise<boolean> {
    return (await call(() => this.contactService.sendContactRequest({ userId }))).becameContacts;
  }

  /** Accepts another user's contact request. */
  async acceptContact(userId: string): Promise<void> {
    await call(() => this.contactService.acceptContactRequest({ userId }));
  }

  /** The account's contacts. */
  async contacts(): Promise<Contact[]> {
    return (await call(() => this.contactService.listContacts({}))).contacts;
  }

  /** Contact requests to and from this account, not yet answered. */
  async contactRequests(): Promise<{ incoming: ContactRequest[]; outgoing: ContactRequest[] }> {
    return call(() => this.contactService.listContactRequests({}));
  }

  /** Blocks a user: neither side can message the other. */
  async block(userId: string): Promise<void> {
    await call(() => this.contactService.blockUser({ userId }));
  }

  /** Lifts a block. */
  async unblock(userId: string): Promise<void> {
    await call(() => this.contactService.unblockUser({ userId }));
  }

  /** The users this account blocked. */
  async blocked(): Promise<User[]> {
    return (await call(() => this.contactService.listBlockedUsers({}))).users;
  }

  // --- Conversations ---

  /** The direct conversation with a user, created on first use. */
  async openDirect(userId: string): Promise<Conversation> {
    return (await call(() => this.conversationService.openDirectConversation({ userId }))).conversation!;
  }

  /** A group with this user as owner and the given members. */
  async createGroup(memberUserIds: string[]): Promise<Conversation> {
    return (await call(() => this.conversationService.createGroup({ memberUserIds }))).conversation!;
  }

  /** The first page of this user's conversations, most recently active first. */
  async conversations(): Promise<Conversation[]> {
    return (await call(() => this.conversationService.listConversations({}))).conversations;
  }

  /** One conversation this user is a member of. */
  async conversation(conversationId: string): Promise<Conversation> {
    return (await call(() => this.conversationService.getConversation({ conversationId }))).conversation!;
  }

  // --- Messages ---

  /** Sends any content to every device of the conversation, end-to-end encrypted. */
  send(conversationId: string, content: Content, opts?: SendOptions): Promise<SendMessageResponse> {
    return this.sender.send(conversationId, content, opts);
  }

  /** Sends a text message. */
  sendText(conversationId: string, text: string, opts?: SendOptions): Promise<SendMessageResponse> {
    return this.send(conversationId, { kind: 'text', text }, opts);
  }

  /** Replaces the text of one of this user's messages (the app shows the latest edit). */
  edit(conversationId: string, targetMessageId: string, text: string): Promise<SendMessageResponse> {
    return this.send(conversationId, { kind: 'edit', targetMessageId, text });
  }

  /** Reacts to a message with an emoji, or removes the reaction. */
  react(conversationId: string, targetMessageId: string, emoji: string, remove = false): Promise<SendMessageResponse> {
    return this.send(conversationId, { kind: 'reaction', targetMessageId, emoji, remove });
  }

  /** Tells the conversation that messages were delivered or read. */
  receipt(conversationId: string, receipt: 'delivered' | 'read', messageIds: string[]): Promise<SendMessageResponse> {
    return this.send(conversationId, { kind: 'receipt', receipt, messageIds });
  }

  /** Tells the devices online now that this user is (or stopped) typing; nothing is stored. */
  async typing(conversationId: string, typing: boolean): Promise<void> {
    await this.send(conversationId, { kind: 'typing', typing }, { ephemeral: true });
  }

  /** Deletes one of this user's messages for everyone (within the server's window). */
  async deleteForEveryone(conversationId: string, messageId: string): Promise<void> {
    await call(() => this.messageService.retractMessage({ conversationId, messageId }));
  }

  // --- Keys and safety numbers ---

  /** Generates and uploads this device's keys, then keeps the signed prekey rotating. */
  async publishKeys(onProgress?: KeyProgress): Promise<void> {
    await this.keys.publish(onProgress);
    this.keys.startRotation((err) => this.events.emit('error', err));
  }

  /**
   * The safety number with a peer device: starts a session from its verified bundle if there is
   * none, so the key compared is the one proven in the log.
   */
  async safetyNumber(peer: PeerDevice): Promise<string> {
    const account = this.requireAccount();
    if ((await this.opts.crypto.sessionRegistrationId(peer)) === undefined) {
      const [bundle] = await this.keys.bundles(peer.userId, peer.deviceId);
      if (!bundle) throw new ParleyError(`${peer.userId}/${peer.deviceId} has no keys`, Code.NotFound, 'wait until that device published its keys');
      await this.lock.run(() => this.opts.crypto.startSession(peer.userId, bundle));
    }
    return this.opts.crypto.safetyNumber(account.userId, peer);
  }

  /** Stops the background work (inbox, refresh, rotation); the store stays as it is. */
  async close(): Promise<void> {
    await this.inbox.stop();
    this.session.stop();
    this.keys.stop();
  }

  private requireAccount(): Account {
    const account = this.session.account;
    if (!account) throw new ParleyError('not signed in', Code.Unauthenticated, 'register, log in or link first');
    return account;
  }

  private beginLinked(linked: LinkedDevice): void {
    this.begin(linked.user, linked.device, linked.deviceSecret, linked.tokens);
  }

  private begin(user: User | undefined, device: Device | undefined, deviceSecret: string, tokens: LinkedDevice['tokens']): void {
    if (!user || !device) throw new ParleyError('the server sent no user or device', Code.Internal, 'report it');
    this.session.begin({ userId: user.id, username: user.username, deviceId: device.deviceId, deviceSecret }, tokens);
    this.opts.crypto.setLocalAddress({ userId: user.id, deviceId: device.deviceId });
  }
}
