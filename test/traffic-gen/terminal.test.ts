import { Writable } from 'node:stream';
import { ConfigError, createLogger } from '@dice-roller/telemetry';
import { describe, expect, it, vi } from 'vitest';
import { Progress } from '../../traffic-gen/src/progress';
import { Stats } from '../../traffic-gen/src/stats';
import { chooseLogFormat, humanLogLine, type LogFormat, Terminal } from '../../traffic-gen/src/terminal';

/** A stand-in for process.stderr that keeps what was written. */
function stderr(isTTY: boolean, columns = 200) {
  const chunks: string[] = [];
  const stream = Object.assign(
    new Writable({
      write(chunk, _encoding, done) {
        chunks.push(String(chunk));
        done();
      },
    }),
    { isTTY, columns },
  );
  return { stream, written: () => chunks.join('') };
}

/** A terminal and the logger traffic-gen writes through it. */
function output(terminal: Terminal) {
  return createLogger({ service: 'traffic-gen', level: 'info', destination: terminal.logDestination() });
}

const LOG_LINE =
  '{"level":"INFO","timestamp":"2026-01-02T10:41:02.123Z","service":"traffic-gen","user":3,"rolls":12,"message":"User completed"}';

describe('traffic-gen terminal output', () => {
  it('on a terminal, clears the live line before a log line and draws it again after', () => {
    const { stream, written } = stderr(true);
    const terminal = new Terminal(stream, 'text');
    terminal.setLive('requests 5');
    terminal.logDestination().write(`${LOG_LINE}\n`);
    terminal.clearLive();
    expect(written()).toBe(
      '\r\x1b[2Krequests 5' + '\r\x1b[2K10:41:02 INFO    User completed user=3 rolls=12\nrequests 5' + '\r\x1b[2K',
    );
  });

  it('cuts the live line to the terminal width, so that redrawing it in place works', () => {
    const { stream, written } = stderr(true, 10);
    new Terminal(stream, 'text').setLive('a line longer than ten columns');
    expect(written()).toBe('\r\x1b[2Ka line lo');
  });

  it.each([
    [false, 'json'],
    [true, 'json'],
  ] as [boolean, LogFormat][])(
    'with JSON logs (a TTY: %s), writes log lines unchanged and no live line',
    (isTTY, format) => {
      const { stream, written } = stderr(isTTY);
      const terminal = new Terminal(stream, format);
      terminal.setLive('requests 5');
      terminal.logDestination().write(`${LOG_LINE}\n`);
      expect(written()).toBe(`${LOG_LINE}\n`);
    },
  );

  it.each([
    [{}, true, 'text'],
    [{}, false, 'json'],
    // A container with a TTY (`docker compose run`): its logs still go to Alloy.
    [{ NODE_ENV: 'production' }, true, 'json'],
    [{ LOG_FORMAT: 'json' }, true, 'json'],
    [{ LOG_FORMAT: 'text' }, false, 'text'],
    [{ LOG_FORMAT: 'text', NODE_ENV: 'production' }, true, 'text'],
  ])('chooses the log format from %j with a TTY %s: %s', (env, isTTY, format) => {
    expect(chooseLogFormat(env, { isTTY })).toBe(format);
  });

  it('refuses a LOG_FORMAT it does not know, naming the variable', () => {
    expect(() => chooseLogFormat({ LOG_FORMAT: 'pretty' }, { isTTY: true })).toThrow(ConfigError);
    expect(() => chooseLogFormat({ LOG_FORMAT: 'pretty' }, { isTTY: true })).toThrow(
      'LOG_FORMAT must be json or text (got "pretty")',
    );
  });

  it('renders a log line with its own fields, leaving out those every line has', () => {
    expect(
      humanLogLine(
        '{"level":"DEBUG","timestamp":"2026-01-02T10:41:02.123Z","service":"traffic-gen","die_type":"fair","trace_id":"abc","span_id":"def","message":"Roll succeeded"}',
      ),
    ).toBe('10:41:02 DEBUG   Roll succeeded die_type=fair trace_id=abc');
    expect(humanLogLine('not json')).toBe('not json');
  });

  it('writes a plain progress line every interval in the text format when stderr is not a terminal', async () => {
    vi.useFakeTimers();
    try {
      const { stream, written } = stderr(false);
      const stats = new Stats(['fair']);
      const terminal = new Terminal(stream, 'text');
      const progress = new Progress({ terminal, logger: output(terminal), stats, describe: () => 'users 1/2 done' });
      stats.recordStart();
      stats.recordStart();
      stats.record({
        die: 'fair',
        kind: 'single',
        dice: 1,
        ok: false,
        status: '500',
        latencyMs: 5,
        traceId: undefined,
      });
      await vi.advanceTimersByTimeAsync(5_000);
      progress.stop();
      expect(written()).toMatch(
        /^ +5\.0s {2}users 1\/2 done {2}requests 1 {2}failed 1 {2}0\.2 req\/s {2}in flight 1\n$/,
      );
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('traffic-gen progress with JSON logs', () => {
  it('is a JSON log line every interval, on a terminal too, with no live line', async () => {
    vi.useFakeTimers();
    try {
      const { stream, written } = stderr(true);
      const stats = new Stats(['fair']);
      const terminal = new Terminal(stream, 'json');
      const progress = new Progress({
        terminal,
        logger: output(terminal),
        stats,
        describe: () => 'of 30s  target 5/s',
      });
      stats.recordStart();
      stats.record({ die: 'fair', kind: 'single', dice: 1, ok: true, status: '200', latencyMs: 5, traceId: undefined });
      await vi.advanceTimersByTimeAsync(5_000);
      progress.stop();
      const lines = written()
        .split('\n')
        .filter((line) => line !== '');
      expect(lines).toHaveLength(1);
      expect(JSON.parse(lines[0] as string)).toMatchObject({
        level: 'INFO',
        service: 'traffic-gen',
        message: 'Progress',
        elapsed_s: 5,
        progress: 'of 30s  target 5/s',
        requests: 1,
        failures: 0,
        in_flight: 0,
      });
    } finally {
      vi.useRealTimers();
    }
  });
});
