import { SERVICES } from '@parley/stack';
import { allEventTypes, events } from './catalog.js';

const WORDS = '[a-z]+(?:_[a-z]+)*';
const NAME = new RegExp(`^(?<producer>[a-z]+)\\.(?<entity>${WORDS})\\.(?<verb>${WORDS})$`);
/** Past forms that don't end in -ed; add one when an event needs it. */
const IRREGULAR_PAST = ['ran', 'sent'];

/** What keeps `name` from following the scheme; empty when it does. */
function problemsWith(name: string): string[] {
  const parts = NAME.exec(name)?.groups;
  if (!parts?.producer || !parts.verb) return ['not <producer>.<entity>.<verb> in lowercase snake_case'];
  const problems: string[] = [];
  if (!SERVICES.some((s) => s.name === parts.producer)) problems.push(`${parts.producer} is not a service`);
  const firstWord = parts.verb.split('_')[0]!;
  if (!firstWord.endsWith('ed') && !IRREGULAR_PAST.includes(firstWord)) problems.push(`${parts.verb} is not in the past tense`);
  return problems;
}

describe('event catalog', () => {
  it.each(allEventTypes.map((t) => t.name))('%s is <producer>.<entity>.<verb>, produced by a service, in the past tense', (name) => {
    expect(problemsWith(name)).toEqual([]);
  });

  it.each([
    ['user.registered', 'not <producer>.<entity>.<verb> in lowercase snake_case'],
    ['auth.user.registered.v2', 'not <producer>.<entity>.<verb> in lowercase snake_case'],
    ['Auth.user.registered', 'not <producer>.<entity>.<verb> in lowercase snake_case'],
    ['dlq.user.registered', 'dlq is not a service'],
    ['keys.prekeys.low', 'low is not in the past tense'],
    ['auth.session.revoke', 'revoke is not in the past tense'],
  ])('refuses %s: %s', (name, problem) => {
    expect(problemsWith(name)).toEqual([problem]);
  });

  it('gives every event its own name and its own message', () => {
    expect(new Set(allEventTypes.map((t) => t.name)).size).toBe(allEventTypes.length);
    expect(new Set(allEventTypes.map((t) => t.schema.typeName)).size).toBe(allEventTypes.length);
  });

  it('keys each event by its proto message', () => {
    for (const [key, type] of Object.entries(events)) expect(key).toBe(type.schema.name.replace(/^./, (c) => c.toLowerCase()));
  });
});
