import { diag } from '@opentelemetry/api';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { logSdkDiagnostics } from '../../traffic-gen/src/sdk-diagnostics';

afterEach(() => diag.disable());

describe("the OpenTelemetry SDK's own warnings in traffic-gen", () => {
  it("go to traffic-gen's log (stderr), as one summarised line per kind of message a minute", () => {
    const warn = vi.fn();
    logSdkDiagnostics({ warn } as never);
    const failure = JSON.stringify({
      stack: 'Error: connect ECONNREFUSED 127.0.0.1:4318\n at ...',
      message: 'connect ECONNREFUSED 127.0.0.1:4318',
    });
    diag.error(failure);
    diag.error(failure);
    diag.warn('Dropped 12 spans');
    diag.warn('Dropped 340 spans');
    diag.info('an informational message');
    expect(warn.mock.calls).toEqual([
      [{ component: 'opentelemetry-sdk' }, 'OpenTelemetry: connect ECONNREFUSED 127.0.0.1:4318'],
      [{ component: 'opentelemetry-sdk' }, 'OpenTelemetry: Dropped 12 spans'],
    ]);
  });
});
