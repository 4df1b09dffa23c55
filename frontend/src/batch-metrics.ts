import { registry } from '@dice-roller/telemetry';
import client from 'prom-client';

export const asyncRollRequests = new client.Counter({
  name: 'async_roll_requests_total',
  help: 'Batch roll requests (GET /roll-async) by batch size. Only valid sizes, 1 to 20, are counted.',
  labelNames: ['batch_size'] as const,
  registers: [registry],
});
