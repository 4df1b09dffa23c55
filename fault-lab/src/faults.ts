/**
 * The faults the lab can switch on, one flag each in the flag file. A fault's
 * flag evaluates to a number, 0 meaning "off"; what a non-zero value means is the
 * fault's own (milliseconds, a fraction of requests). Each is named after the
 * service that misbehaves, which is the one that evaluates its flag and reports it
 * in `fault_active`.
 */
export type FaultService = 'die-service' | 'dice-roller';

export type FaultValueKind = 'milliseconds' | 'fraction' | 'die';

export interface FaultDefinition {
  service: FaultService;
  /** What switching it on does, as `npm run fault -- list` and the page say it. */
  summary: string;
  /** What VALUE in `npm run fault -- on NAME VALUE` is. */
  valueKind: FaultValueKind;
  /** The value `on NAME` uses when none is given. */
  defaultValue: number | string;
}

export const FAULTS = {
  'die-service-slow': {
    service: 'die-service',
    summary: 'adds VALUE ms to every /dice?identifier= answer (slower rolls, no errors)',
    valueKind: 'milliseconds',
    defaultValue: 500,
  },
  'die-service-failing': {
    service: 'die-service',
    summary: 'a fraction VALUE of /dice?identifier= answers become 500s (dice-roller answers 502)',
    valueKind: 'fraction',
    defaultValue: 0.5,
  },
  'die-service-hang': {
    service: 'die-service',
    summary: "holds each /dice?identifier= answer VALUE ms, past dice-roller's timeout (504s)",
    valueKind: 'milliseconds',
    defaultValue: 3000,
  },
  'die-service-bad-deploy': {
    service: 'die-service',
    summary: 'a fraction VALUE of specifications break the contract ("sides" for "faces"; dice-roller answers 502)',
    valueKind: 'fraction',
    defaultValue: 1,
  },
  'dice-roller-event-loop-block': {
    service: 'dice-roller',
    summary: 'burns VALUE ms of CPU synchronously in every roll, blocking the event loop',
    valueKind: 'milliseconds',
    defaultValue: 100,
  },
  'dice-roller-loaded-die': {
    service: 'dice-roller',
    summary: 'die VALUE lands on its highest face half the time (no errors at all)',
    valueKind: 'die',
    defaultValue: 'fair',
  },
} as const satisfies Record<string, FaultDefinition>;

export type FaultName = keyof typeof FAULTS;

export const FAULT_NAMES = Object.keys(FAULTS) as FaultName[];

export function isFaultName(name: string): name is FaultName {
  return Object.hasOwn(FAULTS, name);
}

/** How strongly a loaded die is loaded: the share of its rolls forced onto its highest face. */
export const LOADED_DIE_WEIGHT = 0.5;
