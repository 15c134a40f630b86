import { describe, expect, it } from 'vitest';
import { parseCidr, SourceIpAllowList } from '../../functions/core/source-ip.ts';

describe('parseCidr', () => {
  it.each([
    ['38.80.170.0/24', { address: '38.80.170.0', prefix: 24, family: 'ipv4' }],
    ['10.0.0.1', { address: '10.0.0.1', prefix: 32, family: 'ipv4' }],
    ['2001:db8::/32', { address: '2001:db8::', prefix: 32, family: 'ipv6' }],
    ['::1', { address: '::1', prefix: 128, family: 'ipv6' }],
  ])('%s', (text, expected) => expect(parseCidr(text)).toEqual(expected));

  it.each(['', 'example.com', '38.80.170.0/33', '38.80.170.0/-1', '38.80.170.0/24/1', '2001:db8::/129', '300.1.1.1/8', '1.2.3.4/ 8'])('refuses %j', (text) => {
    expect(parseCidr(text)).toBeUndefined();
  });
});

describe('SourceIpAllowList', () => {
  const list = new SourceIpAllowList(['38.80.170.0/24', '2001:db8::/32']);
  it.each([
    ['38.80.170.0', true],
    ['38.80.170.255', true],
    ['38.80.171.0', false],
    ['::ffff:38.80.170.9', true], // a dual-stack socket's view of an IPv4 caller
    ['2001:db8:1::5', true],
    ['2001:db9::5', false],
    ['127.0.0.1', false],
    ['not an address', false],
    ['', false],
    [undefined, false],
  ])('%s -> %s', (ip, allowed) => expect(list.allows(ip)).toBe(allowed));
});
