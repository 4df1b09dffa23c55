import { registry } from '@dice-roller/telemetry';
import client from 'prom-client';

export const dieSpecificationsRequested = new client.Counter({
  name: 'die_specifications_requested_total',
  help: 'Requests for one die specification, by identifier (a known die or "unknown").',
  labelNames: ['identifier'] as const,
  registers: [registry],
});

export const dieListRequests = new client.Counter({
  name: 'die_list_requests_total',
  help: 'Requests for the list of die identifiers.',
  registers: [registry],
});

export const dieSpecificationsLoaded = new client.Gauge({
  name: 'die_specifications_loaded',
  help: 'Die specifications loaded from the specifications file at start-up.',
  registers: [registry],
});
