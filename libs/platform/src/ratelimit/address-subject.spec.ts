import { addressLimitSubject } from './address-subject.js';

describe('addressLimitSubject', () => {
  it('keys an IPv4 address by itself', () => {
    expect(addressLimitSubject('203.0.113.7')).toBe('203.0.113.7');
  });

  it('keys every IPv6 address of one /64 alike, however it is written', () => {
    const subjects = ['2001:db8:1:2::1', '2001:db8:1:2:ffff:ffff:ffff:ffff', '2001:0db8:0001:0002:0000:0000:0000:0009', '2001:DB8:1:2::a%eth0'].map(
      addressLimitSubject,
    );
    expect(new Set(subjects)).toEqual(new Set(['2001:db8:1:2::/64']));
  });

  it('keys neighbouring /64s apart', () => {
    expect(addressLimitSubject('2001:db8:1:3::1')).not.toBe(addressLimitSubject('2001:db8:1:2::1'));
    expect(addressLimitSubject('::1')).toBe('0:0:0:0::/64');
  });

  it('keys an IPv4-mapped IPv6 address as its IPv4 address', () => {
    expect(addressLimitSubject('::ffff:203.0.113.7')).toBe('203.0.113.7');
  });

  it('keeps what is not an address as it is', () => {
    expect(addressLimitSubject('unknown')).toBe('unknown');
  });
});
