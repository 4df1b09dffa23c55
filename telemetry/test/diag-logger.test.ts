import { describe, expect, it } from 'vitest';
import { captureLogger } from '../../test/support/capture-logger';
import { RateLimitedDiagLogger } from '../src/otel/diag-logger';

describe('the OpenTelemetry SDK warnings in the service log', () => {
  it('logs a kind of warning once, whatever ids or counts it carries', () => {
    const { logger, lines } = captureLogger();
    const diag = new RateLimitedDiagLogger(logger);
    for (const [traceId, spanId] of [
      ['14ad3a513bdec30d7c14daa64e589613', '95f9d577a9d9b0d8'],
      ['d82838cc2ccacb728ae86cfcb5facc27', 'f3a113ed4da5c625'],
    ]) {
      diag.warn(`Cannot execute the operation on ended Span {traceId: ${traceId}, spanId: ${spanId}}`);
    }
    diag.warn('Dropped 450 spans because maxQueueSize reached');
    diag.warn('Dropped 1696 spans because maxQueueSize reached');
    diag.error(
      '{"stack":"Error: connect ECONNREFUSED 127.0.0.1:4318\\n    at ...","message":"connect ECONNREFUSED 127.0.0.1:4318"}',
    );

    expect(lines.map((line) => line.message)).toEqual([
      'OpenTelemetry: Cannot execute the operation on ended Span {traceId: 14ad3a513bdec30d7c14daa64e589613, spanId: 95f9d577a9d9b0d8}',
      'OpenTelemetry: Dropped 450 spans because maxQueueSize reached',
      'OpenTelemetry: connect ECONNREFUSED 127.0.0.1:4318',
    ]);
    expect(lines.every((line) => line.level === 'WARNING' && line.component === 'opentelemetry-sdk')).toBe(true);
  });
});
