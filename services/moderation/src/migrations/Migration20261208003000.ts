import { Migration } from '@mikro-orm/migrations';

/** Moderation's tables; the audit log is append-only, enforced by a trigger (see README). */
export class Migration20261208003000 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "moderation_user" ("user_id" uuid not null, "registered_at" timestamptz not null, constraint "moderation_user_pkey" primary key ("user_id"));`);

    this.addSql(`create table "role_grant" ("user_id" uuid not null, "role" text not null, "granted_by" text not null, "granted_at" timestamptz not null, constraint "role_grant_pkey" primary key ("user_id", "role"));`);

    this.addSql(`create table "moderation_case" ("id" uuid not null, "target_type" text not null, "target_key" text not null, "target_user_id" uuid null, "conversation_id" uuid null, "message_id" uuid null, "reason" text not null, "verified" boolean not null, "state" text not null, "assignee_id" uuid null, "report_count" int not null, "created_at" timestamptz not null, "updated_at" timestamptz not null, constraint "moderation_case_pkey" primary key ("id"));`);
    // At most one case per target in the queue: later reports of it fold into that case.
    this.addSql(`create unique index "moderation_case_open_target_unique" on "moderation_case" ("target_key") where "state" in ('open', 'in_review');`);
    this.addSql(`create index "moderation_case_queue_index" on "moderation_case" ("state", "created_at", "id");`);

    this.addSql(`create table "report" ("id" uuid not null, "case_id" uuid not null, "reporter_id" uuid not null, "target_type" text not null, "target_user_id" uuid null, "conversation_id" uuid null, "message_id" uuid null, "reason" text not null, "details" text not null, "verified" boolean not null, "reporting_tag" bytea null, "created_at" timestamptz not null, constraint "report_pkey" primary key ("id"));`);
    this.addSql(`create unique index "report_reporter_case_unique" on "report" ("reporter_id", "case_id");`);
    // A reporting tag is reported once: the same tag again is a replay.
    this.addSql(`create unique index "report_reporting_tag_unique" on "report" ("reporting_tag");`);
    this.addSql(`create index "report_reporter_index" on "report" ("reporter_id", "created_at", "id");`);
    this.addSql(`create index "report_target_user_index" on "report" ("target_user_id", "verified", "created_at");`);

    this.addSql(`create table "case_note" ("id" uuid not null, "case_id" uuid not null, "author_id" uuid not null, "text" text not null, "created_at" timestamptz not null, constraint "case_note_pkey" primary key ("id"));`);
    this.addSql(`create index "case_note_case_index" on "case_note" ("case_id", "created_at");`);

    this.addSql(`create table "sanction" ("id" uuid not null, "user_id" uuid not null, "kind" int not null, "reason" text not null, "note" text not null, "applied_by" uuid null, "case_id" uuid null, "created_at" timestamptz not null, "expires_at" timestamptz null, "lifted_at" timestamptz null, "ended_at" timestamptz null, constraint "sanction_pkey" primary key ("id"));`);
    // ended_at: lifted, expired (set by the sweeper, which publishes the expiry) or superseded.
    this.addSql(`create index "sanction_user_index" on "sanction" ("user_id", "created_at");`);
    this.addSql(`create index "sanction_expiry_index" on "sanction" ("expires_at") where "ended_at" is null and "expires_at" is not null;`);

    this.addSql(`create table "conversation_members" ("conversation_id" uuid not null, "member_ids" uuid[] not null, "changed_at" timestamptz not null, constraint "conversation_members_pkey" primary key ("conversation_id"));`);
    this.addSql(`create table "contact_pair" ("user_id" uuid not null, "contact_user_id" uuid not null, constraint "contact_pair_pkey" primary key ("user_id", "contact_user_id"));`);
    this.addSql(`create table "activity" ("id" bigserial, "user_id" uuid not null, "kind" text not null, "peer_id" uuid null, "at" timestamptz not null, constraint "activity_pkey" primary key ("id"));`);
    this.addSql(`create index "activity_user_kind_index" on "activity" ("user_id", "kind", "at");`);
    this.addSql(`create table "rule_hit" ("id" bigserial, "user_id" uuid not null, "rule" text not null, "score" int not null, "at" timestamptz not null, constraint "rule_hit_pkey" primary key ("id"));`);
    this.addSql(`create index "rule_hit_user_index" on "rule_hit" ("user_id", "at");`);

    this.addSql(`create table "audit_entry" ("seq" bigint not null, "at" timestamptz not null, "actor" text not null, "action" text not null, "subject_user_id" uuid null, "case_id" uuid null, "reason" text not null, "evidence" text not null, "prev_hash" bytea not null, "hash" bytea not null, constraint "audit_entry_pkey" primary key ("seq"));`);
    this.addSql(`create index "audit_entry_subject_index" on "audit_entry" ("subject_user_id", "seq");`);
    this.addSql(`create function refuse_audit_change() returns trigger language plpgsql as $$ begin raise exception 'the audit log is append-only: % refused', tg_op; end $$;`);
    this.addSql(`create trigger audit_entry_append_only before update or delete on "audit_entry" for each row execute function refuse_audit_change();`);
    this.addSql(`create trigger audit_entry_no_truncate before truncate on "audit_entry" for each statement execute function refuse_audit_change();`);

    this.addSql(`create table "rate_limit_bucket" ("policy" text not null, "subject" text not null, "tokens" double precision not null, "updated_at" timestamptz not null, "full_at" timestamptz not null, constraint "rate_limit_bucket_pkey" primary key ("policy", "subject"));`);
    this.addSql(`create index "rate_limit_bucket_full_at_index" on "rate_limit_bucket" ("full_at");`);
  }

  override async down(): Promise<void> {
    for (const table of ['moderation_user', 'role_grant', 'moderation_case', 'report', 'case_note', 'sanction', 'conversation_members', 'contact_pair', 'activity', 'rule_hit', 'audit_entry', 'rate_limit_bucket']) {
      this.addSql(`drop table if exists "${table}" cascade;`);
    }
    this.addSql(`drop function if exists refuse_audit_change();`);
  }

}
