import type { Client } from '@connectrpc/connect';
import { AuthService, ContactService, ConversationService, DeviceService, MediaService, MessageService, StorageService } from '@parley/proto';
import { Accounts, edgeClient, uniqueUsername, type SignedInDevice, type TestStack } from '@parley/testing';

/** The public services, as one signed-in device (or an anonymous client) sees them through the edge. */
export interface EdgeClients {
  auth: Client<typeof AuthService>;
  devices: Client<typeof DeviceService>;
  contacts: Client<typeof ContactService>;
  conversations: Client<typeof ConversationService>;
  messages: Client<typeof MessageService>;
  storage: Client<typeof StorageService>;
  media: Client<typeof MediaService>;
}

export function clientsOf(stack: TestStack, accessToken?: string): EdgeClients {
  return {
    auth: edgeClient(AuthService, stack.edgeUrl, { accessToken }),
    devices: edgeClient(DeviceService, stack.edgeUrl, { accessToken }),
    contacts: edgeClient(ContactService, stack.edgeUrl, { accessToken }),
    conversations: edgeClient(ConversationService, stack.edgeUrl, { accessToken }),
    messages: edgeClient(MessageService, stack.edgeUrl, { accessToken }),
    storage: edgeClient(StorageService, stack.edgeUrl, { accessToken }),
    media: edgeClient(MediaService, stack.edgeUrl, { accessToken }),
  };
}

/** A signed-in device with clients of the edge that act as it, as an app holds it. */
export interface EdgeDevice extends SignedInDevice, EdgeClients {}

const throughEdge = (stack: TestStack, device: SignedInDevice): EdgeDevice => ({ ...device, ...clientsOf(stack, device.tokens.accessToken) });

/** Accounts made through the edge, as an app makes them. */
const accounts = (stack: TestStack) => new Accounts(clientsOf(stack));

/** Registers a new account through the edge; the result is its primary device, signed in. */
export async function signUp(stack: TestStack, prefix: string): Promise<EdgeDevice> {
  return throughEdge(stack, await accounts(stack).register({ username: uniqueUsername(prefix) }));
}

/** Links a new device to `owner`'s account with the account's password. */
export async function linkWithPassword(stack: TestStack, owner: SignedInDevice, name: string): Promise<EdgeDevice> {
  return throughEdge(stack, await accounts(stack).linkWithPassword(owner, { deviceName: name }));
}

/** Logs `username` in with the password, which adds a new device. */
export async function logIn(stack: TestStack, username: string): Promise<EdgeDevice> {
  return throughEdge(stack, await accounts(stack).logIn(username));
}
