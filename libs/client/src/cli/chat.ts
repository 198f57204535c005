import { createInterface } from 'node:readline';
import { Code } from '@connectrpc/connect';
import type { SendMessageResponse } from '@parley/proto';
import type { IncomingMessage } from '../content.js';
import { ParleyError } from '../errors.js';
import { conversationOf, learnContacts, type Args } from './commands.js';
import { describeMessage } from './output.js';
import type { Profile } from './profile.js';

const HELP = 'type a message and press enter; /edit <text> edits your last message, /react <emoji> reacts to the last one you got, /delete deletes your last message for everyone, /quit leaves';

/**
 * The interactive chat: live messages of one conversation (others are announced), read receipts
 * sent for what is shown, typing shown and sent, and a line per message typed.
 */
export async function chat(profile: Profile, args: Args): Promise<void> {
  const target = args.positionals[0];
  if (!target) throw new ParleyError('parley chat <user|group:id>', Code.InvalidArgument, 'see `parley help`');
  await learnContacts(profile).catch(() => undefined);
  const conversationId = await conversationOf(profile, target);
  const client = profile.client;
  let lastMine: SendMessageResponse | undefined;
  let lastTheirs: IncomingMessage | undefined;
  let typingSent = false;

  client.on('message', (m) => {
    if (m.conversationId !== conversationId) console.log(`(new message from ${profile.nameOf(m.sender.userId)} in another conversation: parley chat ${profile.nameOf(m.sender.userId)})`);
    else {
      console.log(describeMessage(profile, m));
      if (m.content.kind === 'text') {
        lastTheirs = m;
        void client.receipt(conversationId, 'read', [m.messageId]).catch((err: Error) => console.log(`(could not send the read receipt: ${err.message})`));
      }
    }
    m.stored();
  });
  client.on('typing', (t) => t.conversationId === conversationId && t.typing && console.log(`${profile.nameOf(t.userId)} is typing…`));
  client.on('retracted', (r) => r.conversationId === conversationId && console.log(`${profile.nameOf(r.senderUserId)} deleted message #${r.seq}`));
  client.on('connection', (state) => state === 'reconnecting' && console.log('(connection lost, reconnecting…)'));
  client.on('safetyNumberChanged', (peer) => console.log(`(the safety number with ${profile.nameOf(peer.userId)} changed: compare it again with parley safety-number)`));
  client.on('loggedOut', (reason) => console.log(`(logged out: ${reason})`));

  await client.inbox.start();
  console.log(`chatting in ${conversationId}; ${HELP}`);

  const rl = createInterface({ input: process.stdin, terminal: process.stdin.isTTY });
  if (process.stdin.isTTY) {
    process.stdin.on('keypress', () => {
      if (typingSent) return;
      typingSent = true;
      void client.typing(conversationId, true).catch(() => undefined);
    });
  }
  const lines = rl[Symbol.asyncIterator]();
  for (let next = await lines.next(); !next.done; next = await lines.next()) {
    const line = next.value.trim();
    typingSent = false;
    if (!line) continue;
    try {
      if (line === '/quit') break;
      if (line.startsWith('/edit ') && lastMine) await client.edit(conversationId, lastMine.messageId, line.slice(6));
      else if (line.startsWith('/react ') && lastTheirs) await client.react(conversationId, lastTheirs.messageId, line.slice(7));
      else if (line === '/delete' && lastMine) await client.deleteForEveryone(conversationId, lastMine.messageId);
      else if (line.startsWith('/')) console.log(HELP);
      else {
        lastMine = await client.sendText(conversationId, line);
        console.log(`sent #${lastMine.seq}`);
      }
    } catch (err) {
      const error = ParleyError.from(err);
      console.log(`(not sent: ${error.message}; ${error.advice})`);
    }
  }
  rl.close();
}
