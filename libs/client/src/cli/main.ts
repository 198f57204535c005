#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { ParleyError } from '../errors.js';
import { chat } from './chat.js';
import * as commands from './commands.js';
import { DEFAULT_EDGE_URL, Profile } from './profile.js';

const USAGE = `parley: a terminal chat client for Parley

usage: parley [--profile NAME] [--edge URL] <command> …

  register <username>                 create an account (asks the password, or --password / PARLEY_PASSWORD)
  login <username>                    sign in (this device again, or as a new device)
  logout
  whoami
  link show                           on a signed-in device: a code for a new device
  link use <code> [--password P]      on the new device: redeem it (without the password, wait for approval)
  link approve <code> <verification>  on a signed-in device: approve the device showing that verification code
  contacts [request|accept|block|unblock <username>]
  group create <username>…            prints the group's id (group:…)
  chat <username|group:id>            interactive: live messages, typing, receipts
  send <username|group:id> <text>
  inbox                               what arrived since the last look
  devices [rename <id> <name> | revoke <id>]
  sessions [revoke <id>]
  safety-number <username> [device] [--compare DIGITS]

Each profile (default "default") is a device of its own under $PARLEY_HOME (default ~/.parley).
The edge defaults to ${DEFAULT_EDGE_URL}, the one \`npm start\` prints; --edge sets it for the profile.`;

const COMMANDS: Record<string, (profile: Profile, args: commands.Args) => Promise<void>> = {
  register: commands.register,
  login: commands.login,
  logout: commands.logout,
  whoami: commands.whoami,
  link: commands.link,
  contacts: commands.contacts,
  group: commands.group,
  chat,
  send: commands.send,
  inbox: commands.inbox,
  devices: commands.devices,
  sessions: commands.sessions,
  'safety-number': commands.safetyNumber,
};

/** Runs one command; any failure is one line on stderr and exit code 1, never a stack trace. */
async function main(argv: string[]): Promise<number> {
  let profile: Profile | undefined;
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        profile: { type: 'string', default: process.env.PARLEY_PROFILE ?? 'default' },
        edge: { type: 'string' },
        password: { type: 'string' },
        name: { type: 'string' },
        compare: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    const [command, ...rest] = positionals;
    if (values.help || !command || command === 'help') {
      console.log(USAGE);
      return 0;
    }
    const run = COMMANDS[command];
    if (!run) throw new Error(`unknown command "${command}": see parley help`);
    profile = new Profile(values.profile, values.edge);
    await run(profile, { positionals: rest, password: values.password, name: values.name, compare: values.compare });
    return 0;
  } catch (err) {
    const line = err instanceof ParleyError ? `${err.message} (${err.codeName}: ${err.advice})` : err instanceof Error ? err.message : String(err);
    process.stderr.write(`parley: ${line.replace(/\s*\n\s*/g, ' ')}\n`);
    return 1;
  } finally {
    await profile?.close().catch(() => undefined);
  }
}

void main(process.argv.slice(2)).then((code) => process.exit(code));
