import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { timestampDate } from '@bufbuild/protobuf/wkt';
import { Code, ConnectError } from '@connectrpc/connect';
import { buildMessageReport } from '@parley/crypto';
import { events } from '@parley/platform';
import { CaseState, ReportReason, ReportTargetType, Role, SanctionKind } from '@parley/proto';
import { Accounts, connectErrorOf, eventually, startTestStack, type TestStack } from '@parley/testing';
import { clientsOf, logIn, signUp, type EdgeDevice } from './support/accounts.js';
import { opaqueEnvelope, openDirect, sendWhenDevicesKnown } from './support/messages.js';
import { Subscription, closeAllSubscriptions } from './support/subscription.js';
import {
  EventRecorder,
  moderationClientsOf,
  taggedMessage,
  untilModerationKnows,
  untilModerationKnowsConversation,
  withFirstAdmin,
  type ModerationClients,
} from './support/moderation.js';

/**
 * Moderation through the edge with every service running: reports (franked, forged, replayed,
 * folded, rate limited, block-and-report), the moderator console behind the edge's role gate,
 * sanctions and their expiry as events, auto-moderation from metadata, and the audit chain.
 */
let stack: TestStack;
let rulesDir: string;
let sanctions: EventRecorder<typeof events.sanctionChanged.schema>;
let admin: EdgeDevice & ModerationClients;
let moderator: EdgeDevice & ModerationClients;
let alice: EdgeDevice & ModerationClients;
let bob: EdgeDevice & ModerationClients;
let carol: EdgeDevice & ModerationClients;
let mallory: EdgeDevice & ModerationClients;
let rita: EdgeDevice & ModerationClients;

const REPORTS_PER_HOUR = 30;
const SPAM_LIMIT = 5;
const STRANGERS_LIMIT = 3;
const BLOCKS_LIMIT = 3;

beforeAll(async () => {
  // The operator's rules file, with a burst limit a test can reach.
  rulesDir = mkdtempSync(join(tmpdir(), 'parley-rules-'));
  const rules = JSON.parse(readFileSync(join(__dirname, '..', '..', 'services', 'moderation', 'auto-moderation.json'), 'utf8'));
  rules.rules.sendsPerMinute.limit = SPAM_LIMIT;
  // Each of these alone restricts here (the shipped file needs two rules' hits together).
  Object.assign(rules.rules.newAccountStrangers, { strangers: STRANGERS_LIMIT, score: rules.riskThreshold });
  Object.assign(rules.rules.blocksReceived, { count: BLOCKS_LIMIT, score: rules.riskThreshold });
  writeFileSync(join(rulesDir, 'rules.json'), JSON.stringify(rules));
  stack = await startTestStack({
    env: {
      moderation: {
        AUTO_MODERATION_RULES_FILE: join(rulesDir, 'rules.json'),
        SANCTION_SWEEP_SECONDS: '1',
        MODERATION_REPORTS_PER_HOUR: String(REPORTS_PER_HOUR),
      },
    },
  });
  const signedUp = async (prefix: string) => {
    const device = await signUp(stack, prefix);
    return { ...device, ...moderationClientsOf(stack, device) };
  };
  [admin, moderator, alice, bob, carol, mallory, rita] = await Promise.all([
    signedUp('admin'), signedUp('mod'), signedUp('alice'), signedUp('bob'), signedUp('carol'), signedUp('mallory'), signedUp('rita'),
  ]);
  const devices = [admin, moderator, alice, bob, carol, mallory, rita];
  await withFirstAdmin(stack, admin.userId);
  await untilModerationKnows(stack, devices.map((d) => d.userId));
  sanctions = await EventRecorder.start(stack, events.sanctionChanged);
});

afterEach(closeAllSubscriptions);

afterAll(async () => {
  await sanctions?.close();
  await stack?.cleanup();
  rmSync(rulesDir, { recursive: true, force: true });
});

async function storedReports(): Promise<number> {
  const [row] = await stack.query<{ n: string }>('moderation', 'select count(*) as n from report');
  return Number(row!.n);
}

describe('franked message reports', () => {
  let direct: string;

  beforeAll(async () => {
    direct = (await openDirect(bob, alice)).id;
    await untilModerationKnowsConversation(stack, direct);
  });

  it('are verified when the tag and the commitment both check, and show in the reporter\'s list', async () => {
    const sent = await taggedMessage(stack, bob, alice, direct, 'send me your password or else');
    const report = await buildMessageReport(sent.content, sent.tag);
    const { report: filed } = await alice.moderation.reportMessage({ ...report, reason: ReportReason.HARASSMENT, details: 'threat' });
    expect(filed).toMatchObject({ verified: true, targetType: ReportTargetType.MESSAGE, targetUserId: bob.userId, state: CaseState.OPEN });
    const mine = await alice.moderation.listMyReports({});
    expect(mine.reports.map((r) => [r.id, r.verified])).toContainEqual([filed!.id, true]);
  });

  it.each<[string, (r: Awaited<ReturnType<typeof buildMessageReport>>) => void, Code, RegExp]>([
    ['forged plaintext', (r) => void (r.evidence.plaintext = new TextEncoder().encode('something bob never said')), Code.InvalidArgument, /^unverified: the plaintext/],
    ['a tag moved to another conversation', (r) => void (r.conversationId = r.evidence.reportingTag.conversationId = randomUUID()), Code.InvalidArgument, /^unverified: the reporting tag/],
    ['a swapped sender', (r) => void (r.senderUserId = r.evidence.reportingTag.senderUserId = carol.userId), Code.InvalidArgument, /^unverified: the reporting tag/],
    ['an unknown key id', (r) => void (r.evidence.reportingTag.keyId = 'retired-key'), Code.FailedPrecondition, /key id "retired-key"/],
  ])('refuse %s, storing nothing', async (_, forge, code, message) => {
    const sent = await taggedMessage(stack, bob, alice, direct, 'hello');
    const report = await buildMessageReport(sent.content, sent.tag);
    forge(report);
    const before = await storedReports();
    const err = await connectErrorOf(alice.moderation.reportMessage({ ...report, reason: ReportReason.SPAM }));
    expect(err.code).toBe(code);
    expect(err.rawMessage).toMatch(message);
    expect(await storedReports()).toBe(before);
  });

  it('refuse a replayed tag', async () => {
    const sent = await taggedMessage(stack, bob, alice, direct, 'buy now');
    const report = await buildMessageReport(sent.content, sent.tag);
    await alice.moderation.reportMessage({ ...report, reason: ReportReason.SPAM });
    const err = await connectErrorOf(alice.moderation.reportMessage({ ...report, reason: ReportReason.SCAM }));
    expect([err.code, err.rawMessage]).toEqual([Code.AlreadyExists, expect.stringMatching(/^unverified: this reporting tag was already reported/)]);
  });

  it('refuse a reporter who is not the tag\'s recipient', async () => {
    const sent = await taggedMessage(stack, bob, alice, direct, 'hi');
    const report = await buildMessageReport(sent.content, sent.tag);
    expect((await connectErrorOf(carol.moderation.reportMessage({ ...report, reason: ReportReason.SPAM }))).code).toBe(Code.PermissionDenied);
  });

  it('take a message report without evidence as unverified, from a member of the conversation only', async () => {
    const messageId = randomUUID();
    const { report } = await alice.moderation.reportMessage({ conversationId: direct, messageId, senderUserId: bob.userId, reason: ReportReason.SPAM });
    expect(report!.verified).toBe(false);
    const outsider = await connectErrorOf(carol.moderation.reportMessage({ conversationId: direct, messageId, senderUserId: bob.userId, reason: ReportReason.SPAM }));
    expect(outsider.code).toBe(Code.NotFound);
  });
});

describe('reports', () => {
  it('of one user by several reporters fold into one case; a reporter\'s repeat is answered with the first', async () => {
    const first = (await alice.moderation.reportUser({ userId: mallory.userId, reason: ReportReason.SPAM })).report!;
    const again = (await alice.moderation.reportUser({ userId: mallory.userId, reason: ReportReason.SPAM })).report!;
    const other = (await carol.moderation.reportUser({ userId: mallory.userId, reason: ReportReason.SCAM, details: 'fake shop' })).report!;
    expect(again.id).toBe(first.id);
    expect(other.caseId).toBe(first.caseId);
    const { case: kase, reports } = await admin.console.getCase({ caseId: first.caseId });
    expect([kase!.reportCount, reports.length]).toEqual([2, 2]);
  });

  it.each<[string, (ids: { self: string }) => Promise<unknown>, Code]>([
    ['against oneself', ({ self }) => alice.moderation.reportUser({ userId: self, reason: ReportReason.SPAM }), Code.InvalidArgument],
    ['against a user who does not exist', () => alice.moderation.reportUser({ userId: randomUUID(), reason: ReportReason.SPAM }), Code.NotFound],
    ['with an unknown reason', () => alice.moderation.reportUser({ userId: bob.userId, reason: 99 as ReportReason }), Code.InvalidArgument],
    ['with no reason', () => alice.moderation.reportUser({ userId: bob.userId }), Code.InvalidArgument],
    ['with evidence that does not parse', () => alice.moderation.reportMessage({
      conversationId: randomUUID(), messageId: randomUUID(), senderUserId: bob.userId, reason: ReportReason.SPAM,
      evidence: { plaintext: new Uint8Array([1]), frankingKey: new Uint8Array(3), reportingTag: {} },
    }), Code.InvalidArgument],
    ['against a conversation the reporter is not in', () => alice.moderation.reportConversation({ conversationId: randomUUID(), reason: ReportReason.SPAM }), Code.NotFound],
  ])('are refused %s, storing nothing', async (_, call, code) => {
    const before = await storedReports();
    expect((await connectErrorOf(call({ self: alice.userId }))).code).toBe(code);
    expect(await storedReports()).toBe(before);
  });

  it('with block also block the reported user through auth, in the same call', async () => {
    await carol.moderation.reportUser({ userId: bob.userId, reason: ReportReason.HARASSMENT, block: true });
    const { users } = await carol.contacts.listBlockedUsers({});
    expect(users.map((u) => u.id)).toContain(bob.userId);
  });

  it('are rate limited per reporter', async () => {
    // Repeats fold into the first report, and still count against the reporter.
    const results: string[] = [];
    for (let i = 0; i <= REPORTS_PER_HOUR; i++) {
      const filed = rita.moderation.reportUser({ userId: alice.userId, reason: ReportReason.OTHER });
      results.push(await filed.then(() => 'ok', async () => Code[(await connectErrorOf(filed)).code]));
    }
    expect(results.filter((r) => r === 'ok').length).toBeLessThanOrEqual(REPORTS_PER_HOUR);
    expect(results.at(-1)).toBe(Code[Code.ResourceExhausted]);
    // Another reporter is not held back by Rita's limit.
    await expect(bob.moderation.reportUser({ userId: rita.userId, reason: ReportReason.OTHER })).resolves.toBeDefined();
  });
});

describe('the moderator console', () => {
  it('is refused at the edge to everyone without a role, on every RPC', async () => {
    for (const method of ['listCases', 'getStats', 'verifyAuditLog', 'grantRole'] as const) {
      const call = alice.console[method] as (req: object) => Promise<unknown>;
      expect((await connectErrorOf(call({}))).code).toBe(Code.PermissionDenied);
      expect((await connectErrorOf((moderationClientsOf(stack).console[method] as (req: object) => Promise<unknown>)({}))).code).toBe(Code.Unauthenticated);
    }
  });

  it('lets the admin from config grant a moderator, who can work the queue but not grant roles, until revoked', async () => {
    await admin.console.grantRole({ userId: moderator.userId, role: Role.MODERATOR });
    const queue = await moderator.console.listCases({ states: [CaseState.OPEN], reason: ReportReason.SPAM });
    const kase = queue.cases.find((c) => c.targetUserId === mallory.userId)!;
    expect(kase).toBeDefined();
    expect((await moderator.console.assignCase({ caseId: kase.id })).case).toMatchObject({ state: CaseState.IN_REVIEW, assigneeUserId: moderator.userId });
    await moderator.console.addCaseNote({ caseId: kase.id, text: 'two reporters, consistent' });
    expect((await moderator.console.listCases({ states: [CaseState.IN_REVIEW] })).cases.map((c) => c.id)).toContain(kase.id);
    expect((await moderator.console.listCases({ verified: true })).cases.every((c) => c.verified)).toBe(true);
    const closed = await moderator.console.closeCase({ caseId: kase.id, state: CaseState.RESOLVED, note: 'warned' });
    expect(closed.case!.state).toBe(CaseState.RESOLVED);
    expect((await alice.moderation.listMyReports({})).reports.find((r) => r.caseId === kase.id)!.state).toBe(CaseState.RESOLVED);
    expect((await connectErrorOf(moderator.console.grantRole({ userId: alice.userId, role: Role.ADMIN }))).code).toBe(Code.PermissionDenied);

    const stats = await moderator.console.getStats({ window: { seconds: 3600n } });
    expect(stats.byState.find((c) => c.key === 'RESOLVED')!.count).toBeGreaterThanOrEqual(1n);
    expect(stats.byVerified.find((c) => c.key === 'true')!.count).toBeGreaterThanOrEqual(1n);

    await admin.console.revokeRole({ userId: moderator.userId, role: Role.MODERATOR });
    expect((await connectErrorOf(moderator.console.listCases({}))).code).toBe(Code.PermissionDenied);
  });
});

describe('sanctions', () => {
  it('need a duration where one is due, storing nothing', async () => {
    const err = await connectErrorOf(admin.console.applySanction({ userId: carol.userId, kind: SanctionKind.TEMPORARY_BAN, reason: ReportReason.SPAM }));
    expect([err.code, err.rawMessage]).toEqual([Code.InvalidArgument, 'a TEMPORARY_BAN sanction needs a duration']);
    expect(await stack.query('moderation', 'select 1 from sanction where user_id = $1', [carol.userId])).toEqual([]);
  });

  it('are published on apply, on lift, and on expiry, with the standing after each', async () => {
    const ban = (await admin.console.applySanction({ userId: carol.userId, kind: SanctionKind.PERMANENT_BAN, reason: ReportReason.SCAM })).sanction!;
    await sanctions.next((e) => e.userId === carol.userId && e.kind === SanctionKind.PERMANENT_BAN && e.sanctionId === ban.id);
    expect((await admin.console.liftSanction({ userId: carol.userId, note: 'appeal upheld' })).lifted).toBe(1);
    await sanctions.next((e) => e.userId === carol.userId && e.kind === SanctionKind.NONE);

    const temp = (await admin.console.applySanction({ userId: bob.userId, kind: SanctionKind.TEMPORARY_BAN, duration: { seconds: 1n }, reason: ReportReason.HARASSMENT })).sanction!;
    const applied = await sanctions.next((e) => e.userId === bob.userId && e.kind === SanctionKind.TEMPORARY_BAN);
    expect(applied.expiresAt).toEqual(temp.expiresAt);
    // The sweeper ends it once its time has passed, and says so with an event.
    const expired = await sanctions.next((e) => e.userId === bob.userId && e.kind === SanctionKind.NONE);
    expect(Number(expired.changedAt!.seconds)).toBeGreaterThanOrEqual(Number(temp.expiresAt!.seconds));
    expect((await admin.console.listSanctions({ userId: bob.userId })).standing).toBe(SanctionKind.NONE);
    const log = await admin.console.listAuditLog({ subjectUserId: bob.userId });
    expect(log.entries.map((e) => [e.action, e.actor])).toContainEqual(['sanction.expired', 'system']);
  });
});

describe('auto-moderation', () => {
  it('restricts a sender whose burst trips the sends rule, and the audit log says why', async () => {
    // A real burst through the edge: messaging publishes messaging.message.sent for each, moderation counts them.
    const conversationId = (await openDirect(mallory, rita)).id;
    for (let i = 0; i < SPAM_LIMIT; i++) await sendWhenDevicesKnown(mallory.messages, conversationId, [opaqueEnvelope(rita, `buy now ${i}`)]);
    const restricted = await sanctions.next((e) => e.userId === mallory.userId && e.kind === SanctionKind.RESTRICT);
    expect(restricted.reason).toBe('SPAM');
    const log = await admin.console.listAuditLog({ subjectUserId: mallory.userId });
    const hit = log.entries.find((e) => e.action === 'rule.hit')!;
    expect(hit).toMatchObject({ actor: 'rule:sendsPerMinute', reason: expect.stringContaining(`${SPAM_LIMIT} message.sent within 60s ≥ ${SPAM_LIMIT}`) });
    expect(log.entries.find((e) => e.action === 'sanction.applied')).toMatchObject({ actor: 'rule:sendsPerMinute', reason: expect.stringMatching(/^RESTRICT for SPAM until .*automatic: risk 100/) });
    // …and messaging, hearing of it, refuses the next send with what was applied.
    const refused = await eventually(
      () => connectErrorOf(mallory.messages.sendMessage({ conversationId, clientMessageId: randomUUID(), envelopes: [opaqueEnvelope(rita, 'one more')] })).catch(() => undefined),
      (err) => err?.code === Code.PermissionDenied,
    );
    expect(refused!.rawMessage).toMatch(/^your account is restricted until .* \(reason: spam\)/);
  });
});

describe('auto-moderation, other rules', () => {
  it('restricts a new account that messages many strangers', async () => {
    const [newbie, ...strangers] = await Promise.all([signUp(stack, 'newbie'), ...Array.from({ length: STRANGERS_LIMIT }, () => signUp(stack, 'stranger'))]);
    await untilModerationKnows(stack, [newbie!.userId, ...strangers.map((s) => s.userId)]);
    for (const stranger of strangers) {
      const conversationId = (await openDirect(newbie!, stranger)).id;
      await sendWhenDevicesKnown(newbie!.messages, conversationId, [opaqueEnvelope(stranger, 'hi, new here')]);
    }
    expect((await sanctions.next((e) => e.userId === newbie!.userId && e.kind === SanctionKind.RESTRICT)).reason).toBe('SPAM');
    const log = await admin.console.listAuditLog({ subjectUserId: newbie!.userId });
    expect(log.entries.find((e) => e.action === 'rule.hit')).toMatchObject({
      actor: 'rule:newAccountStrangers',
      reason: expect.stringContaining(`${STRANGERS_LIMIT} stranger.messaged (distinct users) within`),
    });
  });

  it('restricts a user many others block', async () => {
    const [troll, ...blockers] = await Promise.all([signUp(stack, 'troll'), ...Array.from({ length: BLOCKS_LIMIT }, () => signUp(stack, 'blocker'))]);
    await untilModerationKnows(stack, [troll!.userId]);
    for (const blocker of blockers) await blocker.contacts.blockUser({ userId: troll!.userId });
    expect((await sanctions.next((e) => e.userId === troll!.userId && e.kind === SanctionKind.RESTRICT)).reason).toBe('HARASSMENT');
    const log = await admin.console.listAuditLog({ subjectUserId: troll!.userId });
    expect(log.entries.find((e) => e.action === 'rule.hit')).toMatchObject({
      actor: 'rule:blocksReceived',
      reason: expect.stringContaining(`${BLOCKS_LIMIT} block.received (distinct users) within`),
    });
  });
});

describe("a moderator's temporary ban", () => {
  it('cuts the live stream at once, refuses sends and logins, and everything works again after it ends', async () => {
    const [eve, peer] = await Promise.all([signUp(stack, 'eve'), signUp(stack, 'peer')]);
    await untilModerationKnows(stack, [eve.userId]);
    const conversationId = (await openDirect(eve, peer)).id;
    await sendWhenDevicesKnown(eve.messages, conversationId, [opaqueEnvelope(peer, 'before')]);
    const stream = Subscription.open(stack.edgeUrl, eve);
    await stream.backlog();
    const ended = stream.next().then(
      () => undefined,
      (err: unknown) => ({ error: ConnectError.from(err), at: performance.now() }),
    );

    const applied = performance.now();
    const { sanction } = await admin.console.applySanction({ userId: eve.userId, kind: SanctionKind.TEMPORARY_BAN, duration: { seconds: 4n }, reason: ReportReason.SPAM });
    const end = await ended;
    if (!end) throw new Error('the stream sent an event instead of ending');
    console.log(`moderator's ban applied → live stream ended: ${(end.at - applied).toFixed(1)} ms`);
    expect(end.error.code).toBe(Code.PermissionDenied);
    expect(end.error.rawMessage).toMatch(/^your account is temporarily banned until /);

    const send = await connectErrorOf(eve.messages.sendMessage({ conversationId, clientMessageId: randomUUID(), envelopes: [opaqueEnvelope(peer, 'x')] }));
    expect(send.code).toBe(Code.PermissionDenied);
    const login = await eventually(
      () => connectErrorOf(logIn(stack, eve.username)).catch(() => undefined),
      (err) => err?.code === Code.PermissionDenied,
    );
    expect(login!.rawMessage).toMatch(/^your account is temporarily banned until /);

    // Once it has ended by itself, the same device logs in, sends and subscribes again.
    const again = await eventually(
      () => new Accounts(clientsOf(stack)).logIn(eve.username, { again: eve }).catch((err: unknown) => ConnectError.from(err)),
      (res) => !(res instanceof ConnectError),
    );
    if (again instanceof ConnectError) throw again;
    expect(Date.now()).toBeGreaterThanOrEqual(timestampDate(sanction!.expiresAt!).getTime());
    await sendWhenDevicesKnown(clientsOf(stack, again.tokens.accessToken).messages, conversationId, [opaqueEnvelope(peer, 'after')]);
    await Subscription.open(stack.edgeUrl, again).backlog();
  });
});

describe('the audit log', () => {
  it('refuses UPDATE and DELETE, verifies intact, and finds a row changed by hand', async () => {
    await expect(stack.query('moderation', `update audit_entry set reason = 'x' where seq = 1`)).rejects.toThrow(/append-only/);
    await expect(stack.query('moderation', `delete from audit_entry where seq = 1`)).rejects.toThrow(/append-only/);
    const intact = await admin.console.verifyAuditLog({});
    expect(intact.intact).toBe(true);
    expect(intact.entriesChecked).toBeGreaterThan(5n);
    // As a superuser would: switch the trigger off, rewrite history, switch it back on.
    await stack.query('moderation', `alter table audit_entry disable trigger audit_entry_append_only`);
    await stack.query('moderation', `update audit_entry set reason = 'nothing to see' where seq = 3`);
    await stack.query('moderation', `alter table audit_entry enable trigger audit_entry_append_only`);
    expect(await admin.console.verifyAuditLog({})).toMatchObject({ intact: false, firstBrokenSeq: 3n });
  });
});
