import { SpanStatusCode, trace } from '@opentelemetry/api';
import { NodeSDK, type NodeSDKConfiguration } from '@opentelemetry/sdk-node';
import express from 'express';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureLogger } from '../../test/support/capture-logger';
import { errorPath } from '../src/service-kit/error-path';

type SpanProcessor = NonNullable<NodeSDKConfiguration['spanProcessors']>[number];
type EndedSpan = Parameters<SpanProcessor['onEnd']>[0];

const ended: EndedSpan[] = [];
const sdk = new NodeSDK({
  instrumentations: [],
  spanProcessors: [
    { onStart: () => {}, onEnd: (span) => void ended.push(span), forceFlush: async () => {}, shutdown: async () => {} },
  ],
});

beforeAll(() => sdk.start());
afterAll(() => sdk.shutdown());

describe('an error nobody handled', () => {
  it('is recorded on the request span, with its message and stack, and answered as problem+json', async () => {
    const { logger } = captureLogger();
    const app = express();
    // Stands in for the HTTP instrumentation's server span: one active span per request.
    app.use((_req, res, next) => {
      trace.getTracer('test').startActiveSpan('GET /boom', (span) => {
        res.on('close', () => span.end());
        next();
      });
    });
    app.get('/boom', () => {
      throw new Error('the dice fell off the table');
    });
    app.use(errorPath({ logger, traceIdInProblems: false }));

    const response = await request(app).get('/boom');
    expect(response.status).toBe(500);
    expect(response.body).toMatchObject({ type: 'urn:dice-roller:problem:internal-error' });
    expect(JSON.stringify(response.body)).not.toContain('fell off');

    await expect.poll(() => ended.length).toBe(1);
    const [span] = ended;
    expect(span?.status).toEqual({ code: SpanStatusCode.ERROR, message: 'the dice fell off the table' });
    expect(span?.events.map((event) => event.name)).toEqual(['exception']);
    expect(span?.events[0]?.attributes).toMatchObject({
      'exception.type': 'Error',
      'exception.message': 'the dice fell off the table',
      'exception.stacktrace': expect.stringContaining('problem-span.test.ts'),
    });
  });
});
