import { readFileSync } from 'node:fs';
import { ReportReason } from '@parley/proto';

/** One rule's trigger: `count` matching activities within `windowSeconds` adds `score` to the user's risk. */
export interface RuleSettings {
  enabled: boolean;
  windowSeconds: number;
  score: number;
  /** The taxonomy reason an automatic restriction tipped by this rule carries. */
  reason: ReportReason;
}

/** The operator's auto-moderation file, parsed and checked (auto-moderation.json is the shipped default). */
export interface AutoModerationRules {
  /** Risk (the scores of rule hits within riskWindowSeconds) at which a user is restricted. */
  riskThreshold: number;
  riskWindowSeconds: number;
  /** How long an automatic restriction lasts. */
  restrictionSeconds: number;
  rules: {
    /** Messages sent within the window. */
    sendsPerMinute: RuleSettings & { limit: number };
    /** Distinct non-contacts messaged directly within the window, by an account younger than accountAgeSeconds. */
    newAccountStrangers: RuleSettings & { accountAgeSeconds: number; strangers: number };
    /** Verified reports against the user within the window. */
    verifiedReports: RuleSettings & { count: number };
    /** Users who blocked the user within the window. */
    blocksReceived: RuleSettings & { count: number };
  };
}

export type RuleName = keyof AutoModerationRules['rules'];

type Json = Record<string, unknown>;

function positiveInt(obj: Json, key: string, where: string): number {
  const v = obj[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new Error(`${where}.${key} must be a positive integer, got ${JSON.stringify(v)}`);
  return v;
}

function section(obj: Json, key: string, where: string): Json {
  const v = obj[key];
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(`${where}.${key} must be an object`);
  return v as Json;
}

function rule<K extends string>(rules: Json, name: RuleName, extra: K[]): RuleSettings & Record<K, number> {
  const where = `rules.${name}`;
  const r = section(rules, name, 'rules');
  if (typeof r.enabled !== 'boolean') throw new Error(`${where}.enabled must be true or false`);
  const reason = ReportReason[r.reason as keyof typeof ReportReason];
  if (typeof r.reason !== 'string' || reason === undefined || reason === ReportReason.UNSPECIFIED) {
    throw new Error(`${where}.reason must be a report reason such as "SPAM", got ${JSON.stringify(r.reason)}`);
  }
  const settings: RuleSettings = { enabled: r.enabled, windowSeconds: positiveInt(r, 'windowSeconds', where), score: positiveInt(r, 'score', where), reason };
  const thresholds = Object.fromEntries(extra.map((key) => [key, positiveInt(r, key, where)])) as Record<K, number>;
  return { ...settings, ...thresholds };
}

/** Parses the rules file's text; a wrong or missing setting is an error naming it. */
export function parseAutoModerationRules(text: string): AutoModerationRules {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`not JSON: ${(err as Error).message}`, { cause: err });
  }
  if (typeof json !== 'object' || json === null) throw new Error('must be a JSON object');
  const root = json as Json;
  const rules = section(root, 'rules', 'the file');
  return {
    riskThreshold: positiveInt(root, 'riskThreshold', 'the file'),
    riskWindowSeconds: positiveInt(root, 'riskWindowSeconds', 'the file'),
    restrictionSeconds: positiveInt(root, 'restrictionSeconds', 'the file'),
    rules: {
      sendsPerMinute: rule(rules, 'sendsPerMinute', ['limit']),
      newAccountStrangers: rule(rules, 'newAccountStrangers', ['accountAgeSeconds', 'strangers']),
      verifiedReports: rule(rules, 'verifiedReports', ['count']),
      blocksReceived: rule(rules, 'blocksReceived', ['count']),
    },
  };
}

export function loadAutoModerationRules(path: string): AutoModerationRules {
  try {
    return parseAutoModerationRules(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`the auto-moderation rules file ${path}: ${(err as Error).message}`, { cause: err });
  }
}
