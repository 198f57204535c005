import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ReportReason } from '@parley/proto';
import { parseAutoModerationRules } from './auto-moderation-rules.js';

/** The file as JSON, loosely typed so a test can break any part of it. */
interface RulesJson {
  riskThreshold?: number;
  rules: Record<string, Record<string, unknown>>;
}

const shipped = readFileSync(join(__dirname, '..', '..', 'auto-moderation.json'), 'utf8');

describe('the auto-moderation rules file', () => {
  it('parses the shipped defaults', () => {
    const rules = parseAutoModerationRules(shipped);
    expect(rules.rules.sendsPerMinute).toMatchObject({ enabled: true, limit: 60, windowSeconds: 60, reason: ReportReason.SPAM });
    expect(rules.rules.newAccountStrangers.strangers).toBe(20);
  });

  it.each<[string, (json: RulesJson) => void, RegExp]>([
    ['a missing threshold', (j) => delete j.riskThreshold, /riskThreshold must be a positive integer/],
    ['a zero window', (j) => (j.rules.blocksReceived!.windowSeconds = 0), /rules\.blocksReceived\.windowSeconds must be a positive integer/],
    ['an unknown reason', (j) => (j.rules.verifiedReports!.reason = 'RUDE'), /rules\.verifiedReports\.reason must be a report reason/],
    ['a missing rule', (j) => delete j.rules.sendsPerMinute, /rules\.sendsPerMinute must be an object/],
  ])('refuses %s, naming the setting', (_, change, message) => {
    const json = JSON.parse(shipped) as RulesJson;
    change(json);
    expect(() => parseAutoModerationRules(JSON.stringify(json))).toThrow(message);
  });

  it('refuses text that is not JSON', () => {
    expect(() => parseAutoModerationRules('riskThreshold: 3')).toThrow(/not JSON/);
  });
});
