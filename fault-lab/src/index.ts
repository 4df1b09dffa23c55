export { faultsSwitchedOn, faultValue, startFaultFlags, watchFaultFlags } from './fault-flags';
export { FAULTS, type FaultName, type FaultService, LOADED_DIE_WEIGHT } from './faults';
export type { ActiveFault } from './flag-file';
export type { FlagFileWatcher } from './flag-file-watcher';
