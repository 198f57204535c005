import type { IncomingMessage } from '../content.js';
import type { KeyProgress } from '../keys.js';
import type { Profile } from './profile.js';

const time = (ms: number) => new Date(ms).toISOString().slice(11, 16);

/** One line for a message, as the chat and the inbox print it. */
export function describeMessage(profile: Profile, m: IncomingMessage): string {
  const who = profile.nameOf(m.sender.userId);
  const c = m.content;
  const what =
    c.kind === 'text'
      ? `${who}: ${c.text}${c.attachments?.length ? ` [${c.attachments.length} attachment(s)]` : ''}`
      : c.kind === 'edit'
        ? `${who} edited a message: ${c.text}`
        : c.kind === 'reaction'
          ? `${who} ${c.remove ? 'removed the reaction' : 'reacted'} ${c.emoji}`
          : c.kind === 'receipt'
            ? `${who} ${c.receipt === 'read' ? 'read' : 'received'} ${c.messageIds.length} message(s)`
            : `${who} is typing`;
  return `[${time(m.serverTime)}] ${what}`;
}

/** Progress of a long key operation on stderr: one line rewritten on a terminal, a line per step otherwise. */
export function keyProgress(): KeyProgress {
  const tty = process.stderr.isTTY;
  return ({ phase, done, total }) => {
    const line = phase === 'generating' ? `generating keys ${done}/${total}` : phase === 'uploading' ? 'uploading keys…' : 'keys published';
    process.stderr.write(tty ? `\r\x1b[K${line}${phase === 'done' ? '\n' : ''}` : `${line}\n`);
  };
}
