/** The client key of the per-IP limits: IPv4 as is, IPv4-mapped IPv6 as its IPv4, IPv6 as its /64. */
import { describe, expect, it } from 'vitest';
import { clientKey } from '../../src/http/client-key.js';

describe('clientKey', () => {
  it('keeps an IPv4 address', () => {
    expect(clientKey('192.0.2.1')).toBe('192.0.2.1');
  });

  it('turns an IPv4-mapped IPv6 address, dotted or in hex, into its IPv4', () => {
    expect(clientKey('::ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(clientKey('::FFFF:c000:0201')).toBe('192.0.2.1');
    expect(clientKey('0:0:0:0:0:ffff:192.0.2.1')).toBe('192.0.2.1');
  });

  it('groups IPv6 addresses by /64, however they are written', () => {
    const same = ['2001:db8:1:2::1', '2001:db8:1:2:ffff:ffff:ffff:ffff', '2001:0db8:0001:0002:0000:0000:0000:0009', '2001:DB8:1:2::abcd', 'fe80::1%eth0'.replace('fe80', '2001:db8:1:2')];
    expect(new Set(same.map(clientKey))).toEqual(new Set(['2001:db8:1:2::/64']));
    expect(clientKey('2001:db8:1:3::1')).toBe('2001:db8:1:3::/64');
    expect(clientKey('::1')).toBe('0:0:0:0::/64');
    expect(clientKey('::')).toBe('0:0:0:0::/64');
    expect(clientKey('2001:db8::')).toBe('2001:db8:0:0::/64');
    // an IPv4-compatible tail that is not the mapped form stays IPv6
    expect(clientKey('64:ff9b::192.0.2.1')).toBe('64:ff9b:0:0::/64');
  });

  it('leaves anything else as it is (a unix socket, a test name)', () => {
    expect(clientKey('not an address')).toBe('not an address');
  });
});
