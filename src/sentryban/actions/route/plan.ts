import type { Cidr } from '../../../core/addr.js';
import type { RouteType } from '../spec.js';

// `ip route` plans. Our routes carry our own routing protocol number (`proto N`), so listing and flushing
// touch nothing else. Lines are for `ip -4|-6 -batch -`.

export const familyFlag = (t: Cidr): '-4' | '-6' => (t.base.family === 4 ? '-4' : '-6');

export const planReplaceLine = (type: RouteType, target: string, proto: number): string =>
  `route replace ${type} ${target} proto ${proto}`;
export const planDelLine = (type: string, target: string, proto: number): string =>
  `route del ${type} ${target} proto ${proto}`;

export const planBanArgv = (type: RouteType, t: Cidr, proto: number): string[] => [
  'ip',
  familyFlag(t),
  'route',
  'replace',
  type,
  t.text,
  'proto',
  String(proto),
];

export const planUnbanArgv = (type: RouteType, t: Cidr, proto: number): string[] => [
  'ip',
  familyFlag(t),
  'route',
  'del',
  type,
  t.text,
  'proto',
  String(proto),
];
