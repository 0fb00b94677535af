// SPDX-License-Identifier: MIT
// The poll connector's SSRF guard (OWASP API7:2023): every address a poll would connect to — after DNS
// resolution and again on every redirect — is checked here. Link-local and cloud metadata addresses are
// refused always; loopback, private and other non-public ranges unless TMIDB_POLL_ALLOW_PRIVATE=on.
import dns from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { SourceError } from '../runtime/errors.js';

function blockList(v4: readonly [string, number][], v6: readonly [string, number][]): BlockList {
  const list = new BlockList();
  for (const [net, prefix] of v4) list.addSubnet(net, prefix, 'ipv4');
  for (const [net, prefix] of v6) list.addSubnet(net, prefix, 'ipv6');
  return list;
}

/** Never reachable: link-local (cloud metadata at 169.254.169.254), AWS's IPv6 metadata, multicast, broadcast. */
const alwaysRefused = blockList(
  [
    ['169.254.0.0', 16],
    ['224.0.0.0', 4],
    ['240.0.0.0', 4],
  ],
  [
    ['fe80::', 10],
    ['fd00:ec2::254', 128],
    ['ff00::', 8],
  ],
);

/** Reachable only with TMIDB_POLL_ALLOW_PRIVATE=on: loopback, private, shared, unspecified, ULA. */
const privateRanges = blockList(
  [
    ['0.0.0.0', 8],
    ['10.0.0.0', 8],
    ['100.64.0.0', 10],
    ['127.0.0.0', 8],
    ['172.16.0.0', 12],
    ['192.0.0.0', 24],
    ['192.168.0.0', 16],
    ['198.18.0.0', 15],
  ],
  [
    ['::', 128],
    ['::1', 128],
    ['fc00::', 7],
  ],
);

/** Why a poll may not connect to `address` (an IP literal), or undefined when it may. */
export function refusedAddress(address: string, allowPrivate: boolean): string | undefined {
  let ip = address.replace(/^\[|\]$/g, '');
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) ip = mapped[1]!;
  const family = isIP(ip);
  if (family === 0) return `'${address}' is not an IP address`;
  const type = family === 4 ? 'ipv4' : 'ipv6';
  if (alwaysRefused.check(ip, type)) return `${ip} is a link-local, metadata or multicast address`;
  if (!allowPrivate && privateRanges.check(ip, type)) {
    return `${ip} is a loopback or private address (TMIDB_POLL_ALLOW_PRIVATE=on allows it)`;
  }
  return undefined;
}

export function ssrfError(host: string, reason: string): SourceError {
  return new SourceError('DESTINATION_REFUSED', `refused to connect to ${host}: ${reason}`, false);
}

/**
 * A `lookup` for http.request: resolves like the system does, then refuses the host if ANY of its
 * addresses is refused (so a name that resolves to a public and a private address cannot slip through).
 */
export function guardedLookup(allowPrivate: boolean): LookupFunction {
  return (hostname, options, callback) => {
    dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '', 4);
      for (const a of addresses) {
        const reason = refusedAddress(a.address, allowPrivate);
        if (reason) return callback(ssrfError(hostname, reason), '', 4);
      }
      if ((options as { all?: boolean }).all) {
        return (callback as unknown as (e: null, all: dns.LookupAddress[]) => void)(null, addresses);
      }
      const first = addresses[0];
      if (!first) return callback(new Error(`${hostname} has no address`), '', 4);
      callback(null, first.address, first.family);
    });
  };
}
