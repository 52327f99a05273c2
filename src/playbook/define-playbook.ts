// A playbook is a TypeScript module whose default export is `definePlaybook({...})`. Its vars are
// a zod object schema: the single source of truth for what the playbook accepts, validated per
// host before any host is contacted. Steps are built from the validated vars, so everything a
// planner needs is typed and closed over; the facts come later, from the host.

import type { z } from 'zod';
import type { RolloutPolicyInput } from '../rollout/rollout-policy.ts';
import type { FlushHandlers, Handler, Step } from '../steps/step.ts';

export type PlaybookItem = Step | FlushHandlers;

// The schema must be an object so per-host vars (a key-value map) can be validated against it.
export type VarsSchema = z.ZodObject;

/**
 * What a host must look like from outside once the playbook ran, checked by the rollout gates:
 * `reachable` ports must answer (open, or refused by the host itself: the firewall let them through),
 * `blocked` ports must not answer at all (filtered by the firewall).
 */
export interface PlaybookExposure {
  readonly reachable: readonly number[];
  readonly blocked: readonly number[];
}

/** What the machine running casfleet knows about a host before connecting, for `exposure`. */
export interface ExposureContext {
  /** The port casfleet connects to (ansible_port, else 22): SSH as seen from here. */
  readonly sshPort: number;
}

export interface Playbook<S extends VarsSchema = VarsSchema> {
  readonly name: string;
  readonly description: string;
  readonly vars: S;
  /** The ordered steps for one host, from that host's validated vars. */
  readonly steps: (vars: z.infer<S>) => readonly PlaybookItem[];
  /** Handlers by the name steps `notify`; each runs at most once per host. */
  readonly handlers?: (vars: z.infer<S>) => Readonly<Record<string, Handler>>;
  /** The host's expected exposure for the rollout gates (see PlaybookExposure). */
  readonly exposure?: (vars: z.infer<S>, context: ExposureContext) => PlaybookExposure;
  /** Default rollout for this playbook; CLI flags override it field by field. */
  readonly rollout?: RolloutPolicyInput;
}

/** Identity function that gives a playbook module its types. */
export const definePlaybook = <S extends VarsSchema>(playbook: Playbook<S>): Playbook<S> => playbook;

/** A playbook with its vars type erased, as the runner holds it. */
export type AnyPlaybook = Playbook<VarsSchema>;
