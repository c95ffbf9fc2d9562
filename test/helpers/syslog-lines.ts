// A syslog line split into what the remote copy must keep equal to the local one: priority, tag[pid], message.
// Local: a /dev/log datagram "<PRI>Mmm dd hh:mm:ss tag[pid]: message"; remote: what our rsyslogd wrote,
// "facility severity <PRI>Mmm dd hh:mm:ss HOST tag[pid]: message". A trailing newline of the message is not kept
// by rsyslog (it drops a trailing LF on reception), so it is dropped here too.
export type SyslogParts = { pri: number; tag: string; message: string };

const STAMP = String.raw`<(\d+)>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d `;
const LOCAL = new RegExp(String.raw`^${STAMP}([^\s\[]+\[\d+\]): `, 's');
const REMOTE = new RegExp(String.raw`^\S+ \S+ ${STAMP}\S+ ([^\s\[]+\[\d+\]): `, 's');

const partsOf = (re: RegExp, raw: string): SyslogParts | null => {
  const m = re.exec(raw);
  return m ? { pri: Number(m[1]), tag: m[2] as string, message: raw.slice(m[0].length).replace(/\n$/, '') } : null;
};
export const localParts = (raw: string): SyslogParts | null => partsOf(LOCAL, raw);
export const remoteParts = (raw: string): SyslogParts | null => partsOf(REMOTE, raw);
