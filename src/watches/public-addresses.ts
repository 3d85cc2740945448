/**
 * Which IP addresses are the public internet, for the one place slotwatch posts to an
 * address a user gave it (a push endpoint). Everything else (loopback, RFC 1918 and other
 * private space, link-local with the cloud metadata service, CGNAT, unique-local,
 * multicast, documentation and reserved ranges) is refused, including IPv4 addresses
 * carried inside IPv6 (mapped ::ffff:a.b.c.d, the old compatible ::a.b.c.d, and NAT64
 * 64:ff9b::a.b.c.d, which a NAT64 gateway would forward to the IPv4 address inside).
 */
import net from 'node:net';

type Ranges = [address: string, prefix: number][];

// checked in this order: the first match names the address
const V4: [kind: string, ranges: Ranges][] = [
  ['an unspecified', [['0.0.0.0', 8]]],
  ['a private', [['10.0.0.0', 8], ['172.16.0.0', 12], ['192.168.0.0', 16]]],
  ['a shared (CGNAT)', [['100.64.0.0', 10]]],
  ['a loopback', [['127.0.0.0', 8]]],
  ['a link-local', [['169.254.0.0', 16]]],
  ['a documentation', [['192.0.2.0', 24], ['198.51.100.0', 24], ['203.0.113.0', 24]]],
  ['a reserved', [['192.0.0.0', 24], ['192.88.99.0', 24], ['198.18.0.0', 15]]],
  ['a multicast', [['224.0.0.0', 4]]],
  ['a broadcast', [['255.255.255.255', 32]]],
  ['a reserved', [['240.0.0.0', 4]]],
];

// the IPv6 forms that carry an IPv4 address in their last 32 bits
const V4_CARRIERS = ['::ffff:', '::', '64:ff9b::'];

const V6: [kind: string, ranges: Ranges][] = [
  ['an unspecified', [['::', 128]]],
  ['a loopback', [['::1', 128]]],
  // an IPv4 address inside IPv6 is named for the IPv4 range it falls in
  ...V4.map(([kind, ranges]): [string, Ranges] => [kind, V4_CARRIERS.flatMap((p) => ranges.map(([a, n]): [string, number] => [`${p}${a}`, 96 + n]))]),
  ['a documentation', [['2001:db8::', 32], ['3fff::', 20]]],
  // local-use NAT64, discard-only, IETF protocol assignments (Teredo among them), 6to4
  ['a reserved', [['64:ff9b:1::', 48], ['100::', 64], ['2001::', 23], ['2002::', 16]]],
  ['a unique-local', [['fc00::', 7]]],
  ['a link-local', [['fe80::', 10]]],
  ['a site-local', [['fec0::', 10]]],
  ['a multicast', [['ff00::', 8]]],
];

// global unicast, and the two forms whose IPv4 address was checked above
const V6_ROUTABLE: Ranges = [['2000::', 3], ['::ffff:0:0', 96], ['64:ff9b::', 96]];

function blockList(ranges: Ranges, type: 'ipv4' | 'ipv6'): net.BlockList {
  const list = new net.BlockList();
  for (const [address, prefix] of ranges) list.addSubnet(address, prefix, type);
  return list;
}

const v4Lists = V4.map(([kind, ranges]) => ({ kind, list: blockList(ranges, 'ipv4') }));
const v6Lists = V6.map(([kind, ranges]) => ({ kind, list: blockList(ranges, 'ipv6') }));
const v6Routable = blockList(V6_ROUTABLE, 'ipv6');

/**
 * What kind of non-public address `ip` is ("a loopback address"), or null when it is a
 * public one. Anything that is not an IP address at all is refused too.
 */
export function nonPublicKind(ip: string): string | null {
  const family = net.isIP(ip);
  if (family === 4) {
    const hit = v4Lists.find((r) => r.list.check(ip, 'ipv4'));
    return hit ? `${hit.kind} address` : null;
  }
  if (family === 6) {
    const hit = v6Lists.find((r) => r.list.check(ip, 'ipv6'));
    if (hit) return `${hit.kind} address`;
    return v6Routable.check(ip, 'ipv6') ? null : 'a reserved address';
  }
  return 'not an IP address';
}
