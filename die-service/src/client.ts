import { serverTimingHeader, UnexpectedUpstreamResponse, Upstream } from '@dice-roller/telemetry';
import type { DieSpecification } from './die-specification';

export { DIE_IDENTIFIER_RULE } from './die-identifier';
export type { DieSpecification } from './die-specification';

export type SpecificationLookup = (
  | { found: true; specification: DieSpecification }
  | { found: false; available: string[] }
) & {
  /** die-service's own Server-Timing header, for the caller to relay. */
  serverTiming?: string;
};

export interface DieServiceClientOptions {
  baseUrl: string;
  timeoutMs: number;
}

/**
 * The typed client callers use to reach die-service. Every call either returns
 * what the contract promises, or throws UpstreamFailure (timeout, unreachable) or
 * UnexpectedUpstreamResponse (any other answer).
 */
export class DieServiceClient {
  private readonly upstream: Upstream;

  constructor({ baseUrl, timeoutMs }: DieServiceClientOptions) {
    this.upstream = new Upstream({ name: 'die-service', baseUrl, timeoutMs });
  }

  async listDice(): Promise<string[]> {
    const response = await this.upstream.getJson('/dice');
    const body = response.body as { identifiers?: unknown } | undefined;
    if (response.status !== 200 || !Array.isArray(body?.identifiers)) {
      throw new UnexpectedUpstreamResponse(this.upstream.name, response.status);
    }
    return body.identifiers.filter((identifier): identifier is string => typeof identifier === 'string');
  }

  async getSpecification(identifier: string): Promise<SpecificationLookup> {
    const response = await this.upstream.getJson('/dice', { identifier });
    const serverTiming = serverTimingHeader(response.headers);
    const timing = serverTiming === undefined ? {} : { serverTiming };
    if (response.status === 200) {
      const body = response.body as { specification?: DieSpecification } | undefined;
      if (body?.specification !== undefined) return { found: true, specification: body.specification, ...timing };
    }
    if (response.status === 404) {
      const body = response.body as { available?: unknown } | undefined;
      const available = Array.isArray(body?.available) ? body.available.filter((id) => typeof id === 'string') : [];
      return { found: false, available, ...timing };
    }
    throw new UnexpectedUpstreamResponse(this.upstream.name, response.status);
  }

  isReachable(): Promise<boolean> {
    return this.upstream.isReachable();
  }

  close(): Promise<void> {
    return this.upstream.close();
  }
}
