import { createInterface } from 'node:readline/promises';
import { Code } from '@connectrpc/connect';
import { UUID_PATTERN } from '@parley/platform/dist/limits/uuid.js';
import { ParleyError } from '../errors.js';
import { describeMessage, keyProgress } from './output.js';
import type { Profile } from './profile.js';

export interface Args {
  positionals: string[];
  password?: string;
  name?: string;
  compare?: string;
}

function need(value: string | undefined, what: string): string {
  if (!value) throw new ParleyError(`missing ${what}`, Code.InvalidArgument, 'see `parley help`');
  return value;
}

/** The password: --password, PARLEY_PASSWORD, or asked on the terminal without echo. */
export async function password(args: Args): Promise<string> {
  const given = args.password ?? process.env.PARLEY_PASSWORD;
  if (given) return given;
  if (!process.stdin.isTTY) throw new ParleyError('no password given', Code.InvalidArgument, 'pass --password or set PARLEY_PASSWORD');
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  const output = rl as unknown as { _writeToOutput: (s: string) => void };
  const prompt = 'password: ';
  output._writeToOutput = (s: string) => process.stderr.write(s.startsWith(prompt) ? prompt : s.includes('\n') ? '\n' : '');
  try {
    return await rl.question(prompt);
  } finally {
    rl.close();
  }
}

/** A user id by username, remembered by the profile. */
export async function userIdOf(profile: Profile, username: string): Promise<string> {
  const user = await profile.client.userByName(username);
  profile.remember(user.id, user.username);
  return user.id;
}

/** A conversation from `group:<id>`, a conversation id, or a username (the direct conversation). */
export async function conversationOf(profile: Profile, target: string): Promise<string> {
  const id = target.replace(/^group:/, '');
  if (UUID_PATTERN.test(id)) return id;
  return (await profile.client.openDirect(await userIdOf(profile, target))).id;
}

/** Remembers the names of the profile's contacts, so messages show them. */
export async function learnContacts(profile: Profile): Promise<void> {
  for (const contact of await profile.client.contacts()) if (contact.user) profile.remember(contact.user.id, contact.user.username);
}

export async function register(profile: Profile, args: Args): Promise<void> {
  const username = need(args.positionals[0], 'the username: parley register <username>');
  const user = await profile.client.register({ username, password: await password(args), deviceName: args.name ?? `parley CLI (${profile.name})` });
  await profile.client.keys.publish(keyProgress());
  console.log(`registered ${user.username} (${user.id}) on ${profile.edgeUrl}, device ${profile.client.account!.deviceId}`);
}

export async function login(profile: Profile, args: Args): Promise<void> {
  const username = need(args.positionals[0], 'the username: parley login <username>');
  const { user, newDevice } = await profile.client.login({ username, password: await password(args), deviceName: args.name ?? `parley CLI (${profile.name})` });
  if (newDevice) await profile.client.keys.publish(keyProgress());
  console.log(`logged in as ${user.username}, device ${profile.client.account!.deviceId}${newDevice ? ' (new)' : ''}`);
}

export async function link(profile: Profile, args: Args): Promise<void> {
  const [action, code, verification] = args.positionals;
  if (action === 'show') {
    const created = await profile.client.createLinkCode();
    console.log(`link code: ${created.code}`);
    console.log(`on the new device: parley link use ${created.code}   then approve here: parley link approve ${created.code} <verification code>`);
    return;
  }
  if (action === 'approve') {
    const name = await profile.client.approveLink(need(code, 'the link code'), need(verification, 'the verification code the new device shows'));
    console.log(`approved "${name}"`);
    return;
  }
  if (action === 'use') {
    const outcome = await profile.client.linkDevice({ code: need(code, 'the link code'), deviceName: args.name ?? `parley CLI (${profile.name})`, password: args.password });
    if (!outcome.linked) {
      console.log(`verification code: ${outcome.verificationCode}`);
      console.log('waiting for approval on a signed-in device…');
      await untilApproved(profile, outcome.approvalSecret);
    }
    await profile.client.keys.publish(keyProgress());
    console.log(`linked as device ${profile.client.account!.deviceId} of ${profile.client.account!.username}`);
    return;
  }
  throw new ParleyError('parley link show | use <code> [--password P] | approve <code> <verification>', Code.InvalidArgument, 'see `parley help`');
}

/** CompleteLink answers FAILED_PRECONDITION until a device approved; ask again until it does. */
async function untilApproved(profile: Profile, approvalSecret: string): Promise<void> {
  for (;;) {
    try {
      return await profile.client.completeLink(approvalSecret);
    } catch (err) {
      if (!(err instanceof ParleyError) || err.code !== Code.FailedPrecondition) throw err;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

export async function contacts(profile: Profile, args: Args): Promise<void> {
  const [action, username] = args.positionals;
  if (!action) {
    await learnContacts(profile);
    const list = await profile.client.contacts();
    const requests = await profile.client.contactRequests();
    for (const c of list) console.log(`contact  ${c.user?.username}`);
    for (const r of requests.incoming) console.log(`incoming ${r.from?.username}`);
    for (const r of requests.outgoing) console.log(`outgoing ${r.to?.username}`);
    for (const u of await profile.client.blocked()) console.log(`blocked  ${u.username}`);
    if (list.length + requests.incoming.length + requests.outgoing.length === 0) console.log('no contacts yet');
    return;
  }
  const userId = await userIdOf(profile, need(username, 'the username'));
  const client = profile.client;
  const actions: Record<string, () => Promise<string>> = {
    request: async () => ((await client.requestContact(userId)) ? `${username} is a contact now` : `asked ${username}`),
    accept: async () => (await client.acceptContact(userId), `${username} is a contact now`),
    block: async () => (await client.block(userId), `blocked ${username}`),
    unblock: async () => (await client.unblock(userId), `unblocked ${username}`),
  };
  const run = actions[action];
  if (!run) throw new ParleyError(`no contacts action ${action}`, Code.InvalidArgument, 'use request, accept, block or unblock');
  console.log(await run());
}

export async function group(profile: Profile, args: Args): Promise<void> {
  const [action, ...usernames] = args.positionals;
  if (action !== 'create' || usernames.length === 0) throw new ParleyError('parley group create <user> [<user>…]', Code.InvalidArgument, 'see `parley help`');
  const ids = [];
  for (const username of usernames) ids.push(await userIdOf(profile, username));
  const created = await profile.client.createGroup(ids);
  console.log(`group:${created.id}`);
}

export async function send(profile: Profile, args: Args): Promise<void> {
  const [target, ...words] = args.positionals;
  const conversationId = await conversationOf(profile, need(target, 'who to send to: parley send <user|group:id> <text>'));
  const sent = await profile.client.sendText(conversationId, need(words.join(' ') || undefined, 'the text'));
  console.log(`sent #${sent.seq}`);
}

/** Prints what arrived since the last look, stores and acks it, and exits. */
export async function inbox(profile: Profile): Promise<void> {
  await learnContacts(profile).catch(() => undefined);
  let count = 0;
  profile.client.on('message', (m) => {
    console.log(describeMessage(profile, m));
    m.stored();
    count++;
  });
  profile.client.on('retracted', (r) => console.log(`${profile.nameOf(r.senderUserId)} deleted message #${r.seq}`));
  await profile.client.inbox.start();
  await profile.client.inbox.flushAcks();
  if (count === 0) console.log('no new messages');
}

export async function devices(profile: Profile, args: Args): Promise<void> {
  const [action, id, ...name] = args.positionals;
  if (action === 'rename') {
    const device = await profile.client.renameDevice(Number(need(id, 'the device id')), need(name.join(' ') || undefined, 'the new name'));
    console.log(`device ${device.deviceId} is "${device.name}"`);
  } else if (action === 'revoke') {
    await profile.client.revokeDevice(Number(need(id, 'the device id')));
    console.log(`revoked device ${id}`);
  } else {
    for (const d of await profile.client.devices()) console.log(`${d.deviceId}\t${d.name}${d.current ? '\t(this device)' : ''}`);
  }
}

export async function sessions(profile: Profile, args: Args): Promise<void> {
  const [action, id] = args.positionals;
  if (action === 'revoke') {
    await profile.client.revokeSession(need(id, 'the session id'));
    console.log(`revoked session ${id}`);
    return;
  }
  for (const s of await profile.client.sessions()) console.log(`${s.id}\tdevice ${s.deviceId} (${s.deviceName})${s.current ? '\t(this session)' : ''}`);
}

export async function safetyNumber(profile: Profile, args: Args): Promise<void> {
  const [username, device] = args.positionals;
  const userId = await userIdOf(profile, need(username, 'the username: parley safety-number <username> [device]'));
  const number = await profile.client.safetyNumber({ userId, deviceId: Number(device ?? 1) });
  console.log(number.match(/.{1,5}/g)!.join(' '));
  if (args.compare !== undefined) {
    if (args.compare.replace(/\s/g, '') !== number) throw new ParleyError(`the safety numbers differ: do not trust this conversation`, Code.FailedPrecondition, 'compare again in person');
    console.log('the safety numbers match');
  }
}

export async function logout(profile: Profile): Promise<void> {
  await profile.client.logout();
  console.log('logged out');
}

export async function whoami(profile: Profile): Promise<void> {
  const account = profile.client.account;
  console.log(account && profile.client.loggedIn ? `${account.username} (${account.userId}), device ${account.deviceId} on ${profile.edgeUrl}` : 'not logged in');
}
