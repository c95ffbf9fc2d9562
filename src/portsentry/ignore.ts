import { networkInterfaces } from 'node:os';
import { parseAddr, parseCidr, type Addr, type Cidr } from '../core/addr.js';
import { diag, type Diagnostic } from '../core/diagnostics.js';
import * as L from './lines.js';

// 1.2's NeverBlock line rules: skip "#..." and empty lines, take the leading run of [0-9.:/] (ours also takes
// hex digits so IPv6 works), "/bits" or a host prefix. A bad netmask is logged and the entry skipped.
export type IgnoreList = { entries: Cidr[]; syslog: string[]; warnings: Diagnostic[] };

const LEAD = /^[0-9A-Fa-f.:/]*/;

export const parseIgnore = (text: string, file: string): IgnoreList => {
  const entries: Cidr[] = [];
  const syslog: string[] = [];
  const warnings: Diagnostic[] = [];
  const lines = text.split('\n');
  lines.forEach((raw, i) => {
    if (i === lines.length - 1 && raw === '') return;
    if (raw.startsWith('#') || raw === '') return;
    const lead = LEAD.exec(raw)?.[0] ?? '';
    // 1.2 stops at the first byte outside [0-9.:/]: keep hex letters only when the token is IPv6.
    const token = lead.includes(':') ? lead : (/^[0-9./]*/.exec(lead)?.[0] ?? '');
    if (token === '') {
      warnings.push(diag(file, i + 1, `no address at the start of the line: "${raw.slice(0, 40)}"`));
      return;
    }
    const slash = token.indexOf('/');
    const addrText = slash < 0 ? token : token.slice(0, slash);
    const bitsText = slash < 0 ? '' : token.slice(slash + 1);
    const addr = parseAddr(addrText);
    const max = addr?.family === 6 ? 128 : 32;
    const bits = bitsText === '' ? (slash < 0 ? max : 0) : Number.parseInt(bitsText, 10);
    if (!Number.isFinite(bits) || bits < 0 || bits > max) {
      syslog.push(L.invalidNetmask(`${raw}\n`));
      warnings.push(diag(file, i + 1, `invalid netmask "/${bitsText}"; entry ignored`));
      return;
    }
    if (!addr) {
      warnings.push(diag(file, i + 1, `"${addrText}" is not an address; entry ignored`));
      return;
    }
    const cidr = parseCidr(`${addr.text}/${bits}`);
    if (cidr) entries.push(cidr);
  });
  return { entries, syslog, warnings };
};

export const isListed = (entries: readonly Cidr[], addr: Addr): boolean => entries.some((c) => c.contains(addr));

// The host's own addresses, read fresh (interfaces come and go).
export const ownAddresses = (): Addr[] => {
  const out: Addr[] = [];
  for (const list of Object.values(networkInterfaces())) {
    for (const ni of list ?? []) {
      const a = parseAddr(ni.address.split('%')[0] ?? '');
      if (a) out.push(a);
    }
  }
  return out;
};
