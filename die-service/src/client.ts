import {
  type CallMetrics,
  UpstreamClient,
  type UpstreamClientOptions,
  type UpstreamResponse,
} from '@dice-roller/telemetry';
import type { DieSpecification } from './die-specification';
import { isDieSpecification } from './specification-check';

export { DIE_IDENTIFIER_RULE } from './die-identifier';
export type { DieSpecification } from './die-specification';

/**
 * The typed client callers use to reach die-service. Every call either returns
 * what the contract promises, or throws: UpstreamProblem (an unknown die, passed
 * on as die-service said it), UpstreamFailure (timeout, unreachable) or
 * UnexpectedUpstreamResponse (any other answer).
 */
export class DieServiceClient extends UpstreamClient {
  constructor(options: UpstreamClientOptions) {
    super('die-service', options);
  }

  listDice(): Promise<string[]> {
    return this.upstream.get('/dice', undefined, (response) => {
      const identifiers = (response.body as { identifiers?: unknown } | undefined)?.identifiers;
      if (response.status !== 200 || !Array.isArray(identifiers)) return this.refuse(response, () => false);
      return identifiers.filter((identifier): identifier is string => typeof identifier === 'string');
    });
  }

  /** The specification of die `identifier`; `metrics` are the caller's for this call. */
  getSpecification(identifier: string, metrics?: CallMetrics<DieSpecification>): Promise<DieSpecification> {
    return this.upstream.get('/dice', { identifier }, (response) => this.specificationOf(response), metrics);
  }

  private specificationOf(response: UpstreamResponse): DieSpecification {
    const specification = (response.body as { specification?: unknown } | undefined)?.specification;
    if (response.status === 200 && isDieSpecification(specification)) return specification;
    // The one problem its contract allows: an unknown die.
    return this.refuse(response, (status) => status === 404);
  }
}
