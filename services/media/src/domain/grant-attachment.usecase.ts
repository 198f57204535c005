import type { EntityManager } from '@mikro-orm/postgresql';
import { rpcError, sqlRows, type Caller } from '@parley/platform';
import type { MediaDeps } from '../deps.js';
import { noSuchAttachment } from './readable-attachment.js';

/**
 * Lets the members of a conversation download one of the caller's completed attachments. The
 * caller must be a member as media last heard from messaging; granting twice is harmless.
 */
export async function grantAttachment(deps: Pick<MediaDeps, 'orm' | 'clock'>, caller: Caller, input: { attachmentId: string; conversationId: string }): Promise<void> {
  await deps.orm.em.fork().transactional(async (coreEm) => {
    const em = coreEm as EntityManager;
    const [own] = await sqlRows<{ id: string }>(em, `select id from attachment where id = ? and owner_id = ? and completed_at is not null for update`, [
      input.attachmentId,
      caller.userId,
    ]);
    if (!own) throw rpcError.notFound(`${noSuchAttachment(input.attachmentId)}: only its uploader may grant it, once its upload completed`);
    const [member] = await sqlRows(em, `select 1 from conversation_members where conversation_id = ? and ?::uuid = any(member_ids)`, [input.conversationId, caller.userId]);
    if (!member) throw rpcError.notFound(`you are not a member of a conversation with id ${input.conversationId}`);
    await sqlRows(em, `insert into attachment_grant (attachment_id, conversation_id, created_at) values (?, ?, ?) on conflict do nothing`, [
      input.attachmentId,
      input.conversationId,
      new Date(deps.clock.now()),
    ]);
  });
}
