/**
 * Server-Timing (https://www.w3.org/TR/server-timing/) lets a response say where
 * its time went. Every service names its own entries after itself, so the chain's
 * timings can be passed along unchanged:
 *
 *   Server-Timing: frontend;dur=58.3;desc="frontend total",
 *     frontend.wait;dur=56.9;desc="frontend waiting on dice-roller",
 *     dice-roller;dur=55.1;desc="dice-roller total",
 *     dice-roller.wait;dur=1.9;desc="dice-roller waiting on die-service",
 *     die-service;dur=0.41;desc="die-service total"
 *
 * `<service>` is the time from the request reaching the service's routes to its
 * response headers; `<service>.wait` the time spent waiting on the service it
 * called. A browser shows the entries in its developer tools (Network, Timing);
 * the web UI draws them as a waterfall.
 */
export interface ServerTimingEntry {
  /** A token: letters, digits and !#$%&'*+-.^_`|~ */
  name: string;
  /** Milliseconds. */
  duration?: number;
  description?: string;
}

/**
 * How many entries are relayed from an upstream's header at most: enough for
 * dice-roller's largest answer (its own two, die-service's, one per roll of a
 * batch of 20), few enough that no upstream can grow a header without bound.
 */
export const MAX_RELAYED_ENTRIES = 32;
const MAX_DESCRIPTION_LENGTH = 100;

const TOKEN_CHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** A cursor over one header value, for the small grammar of Server-Timing. */
class Scanner {
  index = 0;
  constructor(readonly text: string) {}

  get done(): boolean {
    return this.index >= this.text.length;
  }

  peek(): string | undefined {
    return this.text[this.index];
  }

  skipWhitespace(): void {
    while (this.peek() === ' ' || this.peek() === '\t') this.index++;
  }

  token(): string {
    const start = this.index;
    while (!this.done && TOKEN_CHAR.test(this.peek() as string)) this.index++;
    return this.text.slice(start, this.index);
  }

  /** A quoted-string (the opening quote is the current character), unescaped. */
  quotedString(): string {
    this.index++;
    let value = '';
    while (!this.done) {
      const char = this.text[this.index++] as string;
      if (char === '"') return value;
      if (char === '\\' && !this.done) value += this.text[this.index++];
      else value += char;
    }
    return value;
  }

  /** Skips to just after the next comma that is not inside a quoted string. */
  skipPastComma(): void {
    while (!this.done) {
      const char = this.peek();
      if (char === '"') this.quotedString();
      else {
        this.index++;
        if (char === ',') return;
      }
    }
  }
}

/**
 * Parses a Server-Timing header (one value or several, as Node gives repeated
 * headers) into its entries, in order. Lenient as the specification asks: a
 * malformed entry is skipped, unknown parameters are ignored, the first `dur` and
 * `desc` of an entry win, and a `dur` that is not a number is left out.
 */
export function parseServerTiming(header: string | readonly string[] | undefined): ServerTimingEntry[] {
  if (header === undefined) return [];
  const scanner = new Scanner(typeof header === 'string' ? header : header.join(','));
  const entries: ServerTimingEntry[] = [];
  while (!scanner.done) {
    scanner.skipWhitespace();
    const name = scanner.token();
    if (name === '') {
      scanner.skipPastComma();
      continue;
    }
    const entry: ServerTimingEntry = { name };
    const seen = new Set<string>();
    scanner.skipWhitespace();
    while (scanner.peek() === ';') {
      scanner.index++;
      scanner.skipWhitespace();
      const param = scanner.token().toLowerCase();
      scanner.skipWhitespace();
      let value = '';
      if (scanner.peek() === '=') {
        scanner.index++;
        scanner.skipWhitespace();
        value = scanner.peek() === '"' ? scanner.quotedString() : scanner.token();
        scanner.skipWhitespace();
      }
      if (param === '' || seen.has(param)) continue;
      seen.add(param);
      if (param === 'dur') {
        const duration = Number(value);
        if (value !== '' && Number.isFinite(duration)) entry.duration = duration;
      } else if (param === 'desc') {
        entry.description = value;
      }
    }
    entries.push(entry);
    scanner.skipPastComma();
  }
  return entries;
}

function quote(text: string): string {
  return `"${text.replace(/[\\"]/g, '\\$&')}"`;
}

/** Milliseconds with at most two decimals: `dur=0.41`, `dur=56.9`. */
function formatDuration(ms: number): string {
  return String(Math.round(ms * 100) / 100);
}

/** The header value for `entries`; entries whose name is not a token are left out. */
export function formatServerTiming(entries: readonly ServerTimingEntry[]): string {
  return entries
    .filter((entry) => TOKEN.test(entry.name))
    .map(({ name, duration, description }) => {
      let metric = name;
      if (duration !== undefined && Number.isFinite(duration)) metric += `;dur=${formatDuration(duration)}`;
      if (description !== undefined) metric += `;desc=${quote(description)}`;
      return metric;
    })
    .join(', ');
}

/** One header value from Node's or undici's header record, repeated headers joined. */
export function serverTimingHeader(headers: Record<string, string | string[] | undefined>): string | undefined {
  const value = headers['server-timing'];
  return Array.isArray(value) ? value.join(', ') : value;
}

/**
 * An upstream's entries, made safe to pass on: at most MAX_RELAYED_ENTRIES, no
 * entry that would pose as one of `ownNames`, durations that are finite and not
 * negative, descriptions of printable ASCII cut to a reasonable length.
 */
export function relayableEntries(
  header: string | readonly string[] | undefined,
  ownNames: ReadonlySet<string>,
): ServerTimingEntry[] {
  const relayed: ServerTimingEntry[] = [];
  for (const entry of parseServerTiming(header)) {
    if (relayed.length === MAX_RELAYED_ENTRIES) break;
    if (ownNames.has(entry.name)) continue;
    const safe: ServerTimingEntry = { name: entry.name };
    if (entry.duration !== undefined && entry.duration >= 0) safe.duration = entry.duration;
    if (entry.description !== undefined) {
      safe.description = entry.description.replace(/[^\x20-\x7e]/g, '').slice(0, MAX_DESCRIPTION_LENGTH);
    }
    relayed.push(safe);
  }
  return relayed;
}
