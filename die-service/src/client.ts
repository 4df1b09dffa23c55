import {
  type CallMetrics,
  isProblem,
  UnexpectedUpstreamResponse,
  Upstream,
  UpstreamProblem,
  type UpstreamResponse,
} from '@dice-roller/telemetry';
import type { DieSpecification } from './die-specification';
import { isDieSpecification } from './specification-check';

export { DIE_IDENTIFIER_RULE } from './die-identifier';
export type { DieSpecification } from './die-specification';

export interface DieServiceClientOptions {
  baseUrl: string;
  timeoutMs: number;
}

/**
 * The typed client callers use to reach die-service. Every call either returns
 * what the contract promises, or throws: UpstreamProblem (an unknown die, passed
 * on as die-service said it), UpstreamFailure (timeout, unreachable) or
 * UnexpectedUpstreamResponse (any other answer).
 */
export class DieServiceClient {
  private readonly upstream: Upstream;

  constructor({ baseUrl, timeoutMs }: DieServiceClientOptions) {
    this.upstream = new Upstream({ name: 'die-service', baseUrl, timeoutMs });
  }

  listDice(): Promise<string[]> {
    return this.upstream.get('/dice', undefined, ({ status, body }) => {
      const identifiers = (body as { identifiers?: unknown } | undefined)?.identifiers;
      if (status !== 200 || !Array.isArray(identifiers))
        throw new UnexpectedUpstreamResponse(this.upstream.name, status);
      return identifiers.filter((identifier): identifier is string => typeof identifier === 'string');
    });
  }

  /** The specification of die `identifier`; `metrics` are the caller's for this call. */
  getSpecification(identifier: string, metrics?: CallMetrics<DieSpecification>): Promise<DieSpecification> {
    return this.upstream.get('/dice', { identifier }, (response) => this.specificationOf(response), metrics);
  }

  private specificationOf({ status, body }: UpstreamResponse): DieSpecification {
    const specification = (body as { specification?: unknown } | undefined)?.specification;
    if (status === 200 && isDieSpecification(specification)) return specification;
    if (status === 404 && isProblem(body)) throw new UpstreamProblem(this.upstream.name, { ...body, status });
    throw new UnexpectedUpstreamResponse(this.upstream.name, status);
  }

  isReachable(): Promise<boolean> {
    return this.upstream.isReachable();
  }

  close(): Promise<void> {
    return this.upstream.close();
  }
}
