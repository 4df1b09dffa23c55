import { counter, gauge } from '@dice-roller/telemetry';

export const dieSpecificationsRequested = counter(
  'die_specifications_requested_total',
  'Requests for one die specification, by identifier (a known die or "unknown").',
  ['identifier'],
);

export const dieListRequests = counter('die_list_requests_total', 'Requests for the list of die identifiers.');

export const dieSpecificationsLoaded = gauge(
  'die_specifications_loaded',
  'Die specifications loaded from the specifications file at start-up.',
);
