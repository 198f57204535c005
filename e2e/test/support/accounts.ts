import type { Client } from '@connectrpc/connect';
import { AuthService, ContactService, ConversationService, DeviceService, MessageService, StorageService, type TokenPair, type User } from '@parley/proto';
import { edgeClient, type TestStack } from '@parley/testing';

export const PASSWORD = 'violet tangerine quarry 42';

/** The public services, as one signed-in device (or an anonymous client) sees them through the edge. */
export interface EdgeClients {
  auth: Client<typeof AuthService>;
  devices: Client<typeof DeviceService>;
  contacts: Client<typeof ContactService>;
  conversations: Client<typeof ConversationService>;
  messages: Client<typeof MessageService>;
  storage: Client<typeof StorageService>;
}

export function clientsOf(stack: TestStack, accessToken?: string): EdgeClients {
  return {
    auth: edgeClient(AuthService, stack.edgeUrl, { accessToken }),
    devices: edgeClient(DeviceService, stack.edgeUrl, { accessToken }),
    contacts: edgeClient(ContactService, stack.edgeUrl, { accessToken }),
    conversations: edgeClient(ConversationService, stack.edgeUrl, { accessToken }),
    messages: edgeClient(MessageService, stack.edgeUrl, { accessToken }),
    storage: edgeClient(StorageService, stack.edgeUrl, { accessToken }),
  };
}

export interface SignedInDevice extends EdgeClients {
  user: User;
  deviceId: number;
  tokens: TokenPair;
}

let registrationId = 1000;
let sequence = 0;

/** A unique username for this test process. */
export function uniqueUsername(prefix: string): string {
  return `${prefix}_${process.pid}_${++sequence}`;
}

/** Registers a new account through the edge; the result is its primary device, signed in. */
export async function signUp(stack: TestStack, prefix: string): Promise<SignedInDevice> {
  const res = await clientsOf(stack).auth.register({ username: uniqueUsername(prefix), password: PASSWORD, registrationId: ++registrationId });
  return { ...clientsOf(stack, res.tokens!.accessToken), user: res.user!, deviceId: res.device!.deviceId, tokens: res.tokens! };
}

/** Links a new device to `owner`'s account with the account's password. */
export async function linkWithPassword(stack: TestStack, owner: SignedInDevice, name: string): Promise<SignedInDevice> {
  const { code } = await owner.devices.createLinkCode({});
  const res = await clientsOf(stack).devices.linkDevice({ code, deviceName: name, registrationId: ++registrationId, password: PASSWORD });
  if (res.outcome.case !== 'linked') throw new Error(`expected the device to be linked at once, got ${res.outcome.case}`);
  const { user, device, tokens } = res.outcome.value;
  return { ...clientsOf(stack, tokens!.accessToken), user: user!, deviceId: device!.deviceId, tokens: tokens! };
}

/** Logs `device`'s account in again on `deviceId`, as a new session. */
export async function logIn(stack: TestStack, username: string, deviceId = 1): Promise<SignedInDevice> {
  const res = await clientsOf(stack).auth.login({ username, password: PASSWORD, deviceId });
  return { ...clientsOf(stack, res.tokens!.accessToken), user: res.user!, deviceId: res.device!.deviceId, tokens: res.tokens! };
}
