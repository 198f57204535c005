import { events } from '../events/catalog.js';
import { Subjects } from './subjects.js';

describe('Subjects', () => {
  it('derives the stream and subjects from the prefix', () => {
    const s = new Subjects('parley_t1');
    expect(s.stream).toBe('PARLEY_T1_EVENTS');
    expect(s.all).toBe('parley_t1.>');
    expect(s.of(events.userRegistered)).toBe('parley_t1.auth.user.registered');
    expect(s.deadLetter('auth_user-projection')).toBe('parley_t1.dlq.auth_user-projection');
  });

  it('gives distinct prefixes distinct streams by accepting only one spelling of each', () => {
    expect(new Subjects('my_deploy').stream).toBe('MY_DEPLOY_EVENTS');
    expect(() => new Subjects('my-deploy')).toThrow(/EVENT_PREFIX/);
    expect(() => new Subjects('My_deploy')).toThrow(/EVENT_PREFIX/);
  });

  it('keeps dead letters inside the stream, so they are stored', () => {
    const s = new Subjects('parley');
    const all = s.all.replace(/>$/, '');
    expect(s.deadLetter('x').startsWith(all)).toBe(true);
    expect(s.of(events.userRegistered).startsWith(all)).toBe(true);
  });

  it.each(['', 'a.b', 'a b', 'a*', 'a>', 'ä', 'a\n'])('rejects the prefix %j', (prefix) => {
    expect(() => new Subjects(prefix)).toThrow(/EVENT_PREFIX/);
  });
});
