// Parser for the `### tuple ###` lines ufw writes to /etc/ufw/user.rules and user6.rules. These
// lines are ufw's own source of truth (it rebuilds its rule list from them on every run), so reading
// them replaces `ufw status` (a ~0.13 s CPU python start) with one grep.
//
// Format, verified on ufw 0.36.2 (backend_iptables.py _write_rules/_read_rules, and empirically):
//   ### tuple ### <action>[_log|_log-all] <proto> <dport> <dst> <sport> <src> <dir>[_<iface>] [comment=<hex>]
//   ### tuple ### <action> <proto> <dport> <dst> <sport> <src> <dapp> <sapp> <dir>[_<iface>] [comment=…]  (app rules)
// - route rules prefix the action: `route:allow`; both interfaces read `in_eth0!out_eth1`;
// - "any" addresses are stored as 0.0.0.0/0 (v4 file) and ::/0 (v6 file); ports as `any`, `22`,
//   `13000:13010` or `80,443`; proto as tcp/udp/any/…; app names escape spaces as %20;
// - the comment is the UTF-8 text hex-encoded (`casfleet: ssh` → 636173666c6565743a20737368);
// - 6- and 8-field tuples are ufw's pre-0.30 format without a direction ("in" is implied).
import { FactError } from '../errors.ts';
import { memoByText } from './memo.ts';

export type UfwAction = 'allow' | 'deny' | 'reject' | 'limit';
export type UfwLog = '' | 'log' | 'log-all';
export type UfwFamily = 'v4' | 'v6';

/** One ufw rule as stored in user.rules/user6.rules. Empty strings mean "not set", as in ufw itself. */
export interface UfwRule {
  readonly action: UfwAction;
  readonly log: UfwLog;
  readonly proto: string;
  readonly dport: string;
  readonly dst: string;
  readonly sport: string;
  readonly src: string;
  readonly direction: 'in' | 'out';
  readonly interfaceIn: string;
  readonly interfaceOut: string;
  /** A `ufw route …` (FORWARD chain) rule. */
  readonly route: boolean;
  readonly dapp: string;
  readonly sapp: string;
  /** Decoded comment text ('' when none). */
  readonly comment: string;
}

export const TUPLE_PREFIX = '### tuple ###';
const ACTIONS: readonly string[] = ['allow', 'deny', 'reject', 'limit'];
const IFACE = /^[A-Za-z0-9_.@+-]+$/;

/** Decodes ufw's hex comment (UTF-8); throws FactError on anything that is not whole hex bytes. */
export const decodeUfwComment = (hex: string, line: string): string => {
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(hex)) throw new FactError(`ufw.state: bad comment hex in "${line}"`);
  return Buffer.from(hex, 'hex').toString('utf8');
};

/** Encodes a comment the way ufw stores it (util.hex_encode). */
export const encodeUfwComment = (text: string): string => Buffer.from(text, 'utf8').toString('hex');

const parseAction = (token: string, line: string): Pick<UfwRule, 'action' | 'log' | 'route'> => {
  const route = token.startsWith('route:');
  const bare = route ? token.slice('route:'.length) : token;
  const [action = '', log = '', extra] = bare.split('_');
  if (!ACTIONS.includes(action) || (log !== '' && log !== 'log' && log !== 'log-all') || extra !== undefined) {
    throw new FactError(`ufw.state: unknown action "${token}" in "${line}"`);
  }
  return { action: action as UfwAction, log: log as UfwLog, route };
};

const parseDirection = (token: string, line: string): Pick<UfwRule, 'direction' | 'interfaceIn' | 'interfaceOut'> => {
  const both = /^in_([^!]+)!out_(.+)$/.exec(token);
  if (both) return { direction: 'in', interfaceIn: both[1] ?? '', interfaceOut: both[2] ?? '' };
  const single = /^(in|out)(?:_(.+))?$/.exec(token);
  const iface = single?.[2] ?? '';
  if (!single || (iface !== '' && !IFACE.test(iface))) {
    throw new FactError(`ufw.state: bad direction/interface "${token}" in "${line}"`);
  }
  const direction = single[1] as 'in' | 'out';
  return { direction, interfaceIn: direction === 'in' ? iface : '', interfaceOut: direction === 'out' ? iface : '' };
};

const parseTuple = (line: string): UfwRule => {
  if (!line.startsWith(TUPLE_PREFIX)) throw new FactError(`ufw.state: not a tuple line: "${line}"`);
  let body = line.slice(TUPLE_PREFIX.length);
  let comment = '';
  const at = body.indexOf(' comment=');
  if (at !== -1) {
    comment = decodeUfwComment(body.slice(at + ' comment='.length).trim(), line);
    body = body.slice(0, at);
  }
  const fields = body.trim().split(/\s+/);
  if (fields.length < 6 || fields.length > 9) {
    throw new FactError(`ufw.state: tuple has ${fields.length} fields (expected 6 to 9): "${line}"`);
  }
  const [actionToken = '', proto = '', dport = '', dst = '', sport = '', src = ''] = fields;
  const hasDirection = fields.length === 7 || fields.length === 9;
  const hasApps = fields.length >= 8;
  const app = (token: string | undefined): string => (token === undefined || token === '-' ? '' : token.replaceAll('%20', ' '));
  return {
    ...parseAction(actionToken, line),
    proto,
    dport,
    dst,
    sport,
    src,
    ...(hasDirection
      ? parseDirection(fields[fields.length - 1] ?? '', line)
      : { direction: 'in' as const, interfaceIn: '', interfaceOut: '' }),
    dapp: hasApps ? app(fields[6]) : '',
    sapp: hasApps ? app(fields[7]) : '',
    comment,
  };
};

/** Parses one `### tuple ### …` line (as found in the rules file) into a UfwRule (read-only: shared by equal lines). */
export const parseUfwTuple = memoByText(parseTuple);
