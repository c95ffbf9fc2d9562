// Time zones as fail2ban resolves them: an explicit zone in the line wins, else the filter's logtimezone
// (fixed offsets and abbreviations), else the host's local zone (or an IANA zone given for tests and replays).
export type TimeZone = { kind: 'local' } | { kind: 'fixed'; offsetMin: number } | { kind: 'iana'; name: string };

// Standard offsets of common abbreviations, hours east of UTC (fixed, no DST switching, as fail2ban).
const ABBR_HOURS: ReadonlyArray<[number, string]> = [
  [-12, 'Y'],
  [-11, 'X NUT SST'],
  [-10, 'W CKT HAST HST TAHT TKT'],
  [-9, 'V AKST GAMT GIT HADT HNY'],
  [-8, 'U AKDT CIST HAY HNP PST PT'],
  [-7, 'T HAP HNR MST PDT'],
  [-6, 'S CST EAST GALT HAR HNC MDT'],
  [-5, 'R CDT COT EASST ECT EST ET HAC HNE PET'],
  [-4, 'Q AST BOT CLT COST EDT FKT GYT HAE HNA PYT'],
  [-3, 'P ADT ART BRT CLST FKST GFT HAA PMST PYST SRT UYT WGT'],
  [-2, 'O BRST FNT PMDT UYST WGST'],
  [-1, 'N AZOT CVT EGT'],
  [0, 'Z EGST GMT UTC WET WT'],
  [1, 'A CET DFT WAT WEDT WEST'],
  [2, 'B CAT CEDT CEST EET SAST WAST'],
  [3, 'C EAT EEDT EEST IDT MSK'],
  [4, 'D AMT AZT GET GST KUYT MSD MUT RET SAMT SCT'],
  [5, 'E AMST AQTT AZST HMT MAWT MVT PKT TFT TJT TMT UZT YEKT'],
  [6, 'F ALMT BIOT BTT IOT KGT NOVT OMST YEKST'],
  [7, 'G CXT DAVT HOVT ICT KRAT NOVST OMSST THA WIB'],
  [8, 'H ACT AWST BDT BNT CAST HKT IRKT KRAST MYT PHT SGT ULAT WITA WST'],
  [9, 'I AWDT IRKST JST KST PWT TLT WDT WIT YAKT'],
  [10, 'K AEST ChST PGT VLAT YAKST YAPT'],
  [11, 'L AEDT LHDT MAGT NCT PONT SBT VLAST VUT'],
  [12, 'M ANAST ANAT FJT GILT MAGST MHT NZST PETST PETT TVT WFT'],
  [13, 'FJST NZDT'],
  [11.5, 'NFT'],
  [10.5, 'ACDT LHST'],
  [9.5, 'ACST'],
  [6.5, 'CCT MMT'],
  [5.75, 'NPT'],
  [5.5, 'SLT'],
  [4.5, 'AFT IRDT'],
  [3.5, 'IRST'],
  [-2.5, 'HAT NDT'],
  [-3.5, 'HNT NST NT'],
  [-4.5, 'HLV VET'],
  [-9.5, 'MART MIT'],
];
const ABBR = new Map<string, number>([['', 0]]);
for (const [h, names] of ABBR_HOURS) for (const n of names.split(' ')) ABBR.set(n, Math.trunc(h * 60));

const ZONE_RE = /^([A-Z](?:[A-Z]{2,4})?)?([+-][01]\d(?::?\d{2})?)?$/;

// "CET", "UTC+0200", "-04:00", "GMT-1" ... -> minutes east of UTC, or null when unknown.
export const parseZoneOffset = (text: string): number | null => {
  const m = ZONE_RE.exec(text);
  if (!m) return null;
  const base = ABBR.get(m[1] ?? '');
  if (base === undefined) return null;
  const o = m[2];
  if (!o) return base;
  const sign = o[0] === '-' ? -1 : 1;
  if (o.length <= 3) return base + Number(o) * 60;
  const mm = o[3] === ':' ? o.slice(4, 6) : o.slice(3, 5);
  return base + sign * (Number(o.slice(1, 3)) * 60 + Number(mm));
};

export const parseTimeZone = (text: string | undefined | null): TimeZone | null => {
  if (!text || text === 'local') return { kind: 'local' };
  const off = parseZoneOffset(text);
  if (off !== null) return { kind: 'fixed', offsetMin: off };
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: text });
    return { kind: 'iana', name: text };
  } catch {
    return null;
  }
};

const ianaOffsetMin = (name: string, utcMs: number): number => {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: name,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  }).formatToParts(new Date(utcMs));
  const get = (t: string): number => Number(parts.find((p) => p.type === t)?.value ?? 0);
  const asUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return Math.round((asUtc - Math.floor(utcMs / 1000) * 1000) / 60000);
};

// Wall-clock fields (as a UTC-based "naive" ms value) in zone tz -> epoch ms.
export const wallToEpochMs = (naiveMs: number, tz: TimeZone): number => {
  if (tz.kind === 'fixed') return naiveMs - tz.offsetMin * 60000;
  if (tz.kind === 'local') {
    const d = new Date(naiveMs);
    return new Date(
      d.getUTCFullYear(),
      d.getUTCMonth(),
      d.getUTCDate(),
      d.getUTCHours(),
      d.getUTCMinutes(),
      d.getUTCSeconds(),
    ).getTime();
  }
  let guess = naiveMs - ianaOffsetMin(tz.name, naiveMs) * 60000;
  guess = naiveMs - ianaOffsetMin(tz.name, guess) * 60000;
  return guess;
};

// Epoch ms -> wall-clock fields in tz, as a UTC-based naive ms value.
export const epochToWallMs = (epochMs: number, tz: TimeZone): number => {
  if (tz.kind === 'fixed') return epochMs + tz.offsetMin * 60000;
  if (tz.kind === 'local') return epochMs - new Date(epochMs).getTimezoneOffset() * 60000;
  return epochMs + ianaOffsetMin(tz.name, epochMs) * 60000;
};
