import { LATENCY_BUCKETS, registry } from '@dice-roller/telemetry';
import client from 'prom-client';

/** The metrics of concurrent rolls (`GET /roll-async`): the rolls, and the batches they come in. */

export const asyncRolls = new client.Counter({
  name: 'async_rolls_total',
  help: 'Rolls made inside batches (one per roll, not per batch), by die type and result (success or error).',
  labelNames: ['die_type', 'result'] as const,
  registers: [registry],
});

export const asyncRollBatchSize = new client.Histogram({
  name: 'async_roll_batch_size',
  help: 'How many rolls each batch asked for.',
  buckets: [1, 2, 3, 5, 10, 15, 20],
  registers: [registry],
});

export const asyncRollDuration = new client.Histogram({
  name: 'async_roll_duration_seconds',
  help: 'Time from the start of a batch of rolls to the end of its slowest roll, whatever the outcome.',
  buckets: LATENCY_BUCKETS,
  enableExemplars: true,
  registers: [registry],
});

export const asyncRollsInProgress = new client.Gauge({
  name: 'async_rolls_in_progress',
  help: 'Batches of rolls running right now.',
  registers: [registry],
});
