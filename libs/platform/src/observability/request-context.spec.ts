import { clientAddressFrom, requestIdFrom } from './request-context.js';

describe('clientAddressFrom', () => {
  it.each([
    ['203.0.113.7', '203.0.113.7'],
    [' 2001:DB8::1 ', '2001:db8::1'],
    ['::ffff:192.0.2.128', '::ffff:192.0.2.128'],
  ])('keeps the address %j', (header, address) => {
    expect(clientAddressFrom(header)).toBe(address);
  });

  it.each([null, '', 'evil\nlog line', 'a'.repeat(46), 'example.com', '1'])('answers unknown for %j', (header) => {
    expect(clientAddressFrom(header)).toBe('unknown');
  });
});

describe('requestIdFrom', () => {
  it('keeps a short printable id and replaces anything else', () => {
    expect(requestIdFrom('req-1.a:b')).toBe('req-1.a:b');
    expect(requestIdFrom('bad id')).not.toBe('bad id');
  });
});
