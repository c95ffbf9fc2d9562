// Expansion of fail2ban's failregex tags (<HOST>, <ADDR>, <F-USER>...</F-USER> ...) into Python regex text,
// exactly as fail2ban 1.0 expands them, so that matching agrees with fail2ban-regex.
const IP4 = String.raw`(?:::f{4,6}:)?(?P<ip4>(?:\d{1,3}\.){3}\d{1,3})`;
const IP6 = String.raw`(?P<ip6>(?:[0-9a-fA-F]{1,4}::?|:){1,7}(?:[0-9a-fA-F]{1,4}|(?<=:):))`;
const DNS = String.raw`(?P<dns>[\w\-.^_]*\w)`;
const CIDR = String.raw`(?P<cidr>\d+)`;
const ADDR = String.raw`\[?(?:${IP4}|${IP6})\]?`;
const HOST = `(?:${ADDR}|${DNS})`;
const SUBNET = String.raw`\[?(?:${IP4}|${IP6})(?:/${CIDR})?\]?`;

const FIXED: Record<string, string> = {
  IP4,
  'F-IP4/': IP4,
  IP6,
  'F-IP6/': IP6,
  ADDR,
  'F-ADDR/': ADDR,
  CIDR,
  'F-CIDR/': CIDR,
  SUBNET,
  'F-SUBNET/': SUBNET,
  DNS,
  'F-DNS/': DNS,
  'F-ID/': String.raw`(?P<fid>\S+)`,
  'F-PORT/': String.raw`(?P<fport>\w+)`,
};
const NAME_MAP: Record<string, string> = { id: 'fid', port: 'fport' };
const TAG_RE = /<\/?[\w-]+\/?>/g;
const CUSTOM_RE = /^(\/?)F-([A-Z0-9_-]+)$/;

export const mapTagName = (tag: string): string => NAME_MAP[tag.toLowerCase()] ?? tag.toLowerCase();

// usedns "no" makes <HOST> an address only; any other value lets it match a host name too.
export const expandHostTags = (regex: string, usedns = 'yes'): string => {
  const open = new Set<string>();
  let skip = 0;
  return regex.replace(TAG_RE, (tag) => {
    const name = tag.slice(1, -1);
    if (name === 'HOST') return usedns === 'no' ? ADDR : HOST;
    if (name === 'SKIPLINES') return String.raw`\n(?P<skiplines${skip++}>(?:(?:.*\n)*?))`;
    const fixed = FIXED[name];
    if (fixed !== undefined) return fixed;
    const m = CUSTOM_RE.exec(name);
    if (!m) return tag;
    const n = m[2] ?? '';
    if (m[1]) return open.has(n) ? ')' : tag;
    open.add(n);
    return `(?P<${mapTagName(n)}>`;
  });
};
