// A ufw rule as the ufw fact reads it, for planner tests: an incoming tcp rule from and to anywhere
// in the given family, with whatever fields the test sets.
import type { UfwFamily, UfwRule } from '../../src/facts/ufw-tuple.ts';
import { ANY_ADDRESS } from '../../src/steps/cidr.ts';

export const ufwRule = (family: UfwFamily, action: UfwRule['action'], comment: string, extra: Partial<UfwRule> = {}): UfwRule => ({
  action,
  log: '',
  proto: 'tcp',
  dport: '7741',
  dst: ANY_ADDRESS[family],
  sport: 'any',
  src: ANY_ADDRESS[family],
  direction: 'in',
  interfaceIn: '',
  interfaceOut: '',
  route: false,
  dapp: '',
  sapp: '',
  comment,
  ...extra,
});
