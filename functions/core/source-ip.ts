// Not an ESM import: node:net's ESM facade reads every export, which loads BlockList's and
// SocketAddress's internals at each cold start; here BlockList loads with the first allow-list.
const net = process.getBuiltinModule('node:net');

/**
 * Source-address allow-lists for webhook connections (`allowedSourceIps`), with node's own
 * BlockList: IPv4 and IPv6 CIDRs, and IPv4-mapped IPv6 addresses (`::ffff:1.2.3.4`, as a
 * dual-stack socket reports them) matched as IPv4.
 */

export interface Cidr {
  address: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

export function parseCidr(value: string): Cidr | undefined {
  const [address = '', prefixText, extra] = value.trim().split('/');
  if (extra !== undefined) return undefined;
  const version = net.isIP(address);
  if (version === 0) return undefined;
  const max = version === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? max : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > max) return undefined;
  return { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}

export class SourceIpAllowList {
  private readonly list = new net.BlockList();

  constructor(cidrs: readonly string[]) {
    for (const text of cidrs) {
      const cidr = parseCidr(text);
      if (!cidr) throw new Error(`not a CIDR: ${text}`);
      this.list.addSubnet(cidr.address, cidr.prefix, cidr.family);
    }
  }

  allows(sourceIp: string | undefined): boolean {
    if (!sourceIp) return false;
    const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(sourceIp)?.[1];
    const address = mapped ?? sourceIp;
    const version = net.isIP(address);
    if (version === 0) return false;
    return this.list.check(address, version === 4 ? 'ipv4' : 'ipv6');
  }
}
