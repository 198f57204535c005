import { generateKeyPairSync } from 'node:crypto';
import type { CallOptions, Client } from '@connectrpc/connect';
import { MAX_REGISTRATION_ID } from '@parley/platform';
import type { AuthService, DeviceService, TokenPair } from '@parley/proto';

/** The password of every account a test makes. */
export const PASSWORD = 'correct horse battery';

/** A device as a sender addresses it: whose, which, and the registration id its sessions are with. */
export interface DeviceAddress {
  userId: string;
  deviceId: number;
  registrationId: number;
}

/** A device's identity key pair: the public key as libsignal serializes it (0x05 first), the raw 32-byte private key. */
export interface DeviceIdentity {
  publicKey: Uint8Array;
  privateKey: Uint8Array;
}

/** One signed-in device of an account, as auth answered it. */
export interface SignedInDevice extends DeviceAddress {
  username: string;
  tokens: TokenPair;
  /** Call options that act as this device: its access token as a bearer header. */
  as: CallOptions;
  /** The device's own credential, given when it was created (empty for a device that signed in again). */
  deviceSecret: string;
  /** The identity a linked device stated when it linked: keys accepts only it as the device's first. */
  identity?: DeviceIdentity;
}

/** The clients accounts are made with: straight to auth, or through the edge. */
export interface AccountClients {
  auth: Client<typeof AuthService>;
  devices: Client<typeof DeviceService>;
}

export interface NewDevice {
  registrationId?: number;
  deviceName?: string;
  /** The identity a new linked device states; a fresh one if not given. */
  identity?: DeviceIdentity;
}

/** A fresh Curve25519 identity key pair, in the forms libsignal reads. */
export function newDeviceIdentity(): DeviceIdentity {
  const { publicKey, privateKey } = generateKeyPairSync('x25519');
  const raw = (key: typeof publicKey, part: 'x' | 'd') => Buffer.from(key.export({ format: 'jwk' })[part]!, 'base64url');
  return { publicKey: Uint8Array.from([0x05, ...raw(publicKey, 'x')]), privateKey: Uint8Array.from(raw(privateKey, 'd')) };
}

/** Call options carrying an access token. */
export function withToken(accessToken: string): CallOptions {
  return { headers: { authorization: `Bearer ${accessToken}` } };
}

let usernames = 0;
let registrationIds = 1000;

/** A username no other account of this test process has. */
export function uniqueUsername(prefix = 'user'): string {
  return `${prefix}_${process.pid}_${++usernames}`;
}

/** A registration id no other device of this test process has had lately (they wrap at the bound). */
export function nextRegistrationId(): number {
  registrationIds = (registrationIds % MAX_REGISTRATION_ID) + 1;
  return registrationIds;
}

/**
 * Registers accounts and links devices to them, with `clients`. Every account has PASSWORD; a
 * caller that cares passes the username, registration id or device name, else each is fresh.
 */
export class Accounts {
  constructor(private readonly clients: AccountClients) {}

  /** A new account; the result is its primary device. */
  async register(opts: NewDevice & { username?: string } = {}): Promise<SignedInDevice> {
    const username = opts.username ?? uniqueUsername();
    const res = await this.clients.auth.register({ username, password: PASSWORD, registrationId: opts.registrationId ?? nextRegistrationId(), deviceName: opts.deviceName });
    return signedIn(res);
  }

  /**
   * A password login of `username`: on a new device (the password alone adds one), or, given
   * `again`, a new session on that existing device, which proves itself with its own secret.
   */
  async logIn(username: string, opts: NewDevice & { again?: Pick<SignedInDevice, 'deviceId' | 'deviceSecret'> } = {}): Promise<SignedInDevice> {
    if (opts.again) {
      const { deviceId, deviceSecret } = opts.again;
      return { ...signedIn(await this.clients.auth.login({ username, password: PASSWORD, deviceId, deviceSecret })), deviceSecret };
    }
    const device = linkedDevice(opts);
    return { ...signedIn(await this.clients.auth.login({ username, password: PASSWORD, ...device.request })), identity: device.identity };
  }

  /** A new device of `owner`'s account, linked at once with the password. */
  async linkWithPassword(owner: Pick<SignedInDevice, 'as'>, opts: NewDevice = {}): Promise<SignedInDevice> {
    const { code } = await this.clients.devices.createLinkCode({}, owner.as);
    const device = linkedDevice(opts);
    const res = await this.clients.devices.linkDevice({ code, ...device.request, password: PASSWORD });
    if (res.outcome.case !== 'linked') throw new Error(`expected the password to link the device, got ${res.outcome.case}`);
    return { ...signedIn(res.outcome.value), identity: device.identity };
  }

  /**
   * A new device of `owner`'s account, linked the way that needs no password: request, approve (as
   * `owner`, with the verification code the new device shows), complete.
   */
  async linkByApproval(owner: Pick<SignedInDevice, 'as'>, opts: NewDevice = {}): Promise<SignedInDevice> {
    const { code } = await this.clients.devices.createLinkCode({}, owner.as);
    const device = linkedDevice(opts);
    const request = await this.clients.devices.linkDevice({ code, ...device.request });
    if (request.outcome.case !== 'approvalSecret') throw new Error(`expected an approval secret, got ${request.outcome.case}`);
    await this.clients.devices.approveLink({ code, verificationCode: request.verificationCode }, owner.as);
    const { linked } = await this.clients.devices.completeLink({ approvalSecret: request.outcome.value });
    return { ...signedIn(linked), identity: device.identity };
  }
}

function linkedDevice(opts: NewDevice) {
  const registrationId = opts.registrationId ?? nextRegistrationId();
  const identity = opts.identity ?? newDeviceIdentity();
  return { identity, request: { deviceName: opts.deviceName ?? `Device ${registrationId}`, registrationId, identityKey: identity.publicKey } };
}

type AuthAnswer = { user?: { id: string; username: string }; device?: { deviceId: number; registrationId: number }; tokens?: TokenPair; deviceSecret: string };

/** What Register, Login and a link answer, as a signed-in device; fails if a part is missing. */
function signedIn(res: AuthAnswer | undefined): SignedInDevice {
  const { user, device, tokens, deviceSecret = '' } = res ?? {};
  if (!user || !device || !tokens) throw new Error('auth answered without the user, device or tokens');
  return {
    userId: user.id,
    username: user.username,
    deviceId: device.deviceId,
    registrationId: device.registrationId,
    tokens,
    as: withToken(tokens.accessToken),
    deviceSecret,
  };
}
