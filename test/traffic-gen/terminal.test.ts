import { Writable } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import { Progress } from '../../traffic-gen/src/progress';
import { Stats } from '../../traffic-gen/src/stats';
import { humanLogLine, Terminal } from '../../traffic-gen/src/terminal';

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

const LOG_LINE =
  '{"level":"INFO","timestamp":"2026-01-02T10:41:02.123Z","service":"traffic-gen","user":3,"rolls":12,"message":"User completed"}';

describe('traffic-gen terminal output', () => {
  it('on a terminal, clears the live line before a log line and draws it again after', () => {
    const { stream, written } = stderr(true);
    const terminal = new Terminal(stream);
    terminal.setLive('requests 5');
    terminal.logDestination().write(`${LOG_LINE}\n`);
    terminal.clearLive();
    expect(written()).toBe(
      '\r\x1b[2Krequests 5' + '\r\x1b[2K10:41:02 INFO    User completed user=3 rolls=12\nrequests 5' + '\r\x1b[2K',
    );
  });

  it('cuts the live line to the terminal width, so that redrawing it in place works', () => {
    const { stream, written } = stderr(true, 10);
    new Terminal(stream).setLive('a line longer than ten columns');
    expect(written()).toBe('\r\x1b[2Ka line lo');
  });

  it('elsewhere, writes log lines as JSON, unchanged, and no live line', () => {
    const { stream, written } = stderr(false);
    const terminal = new Terminal(stream);
    terminal.setLive('requests 5');
    terminal.logDestination().write(`${LOG_LINE}\n`);
    expect(written()).toBe(`${LOG_LINE}\n`);
  });

  it('renders a log line with its own fields, leaving out those every line has', () => {
    expect(
      humanLogLine(
        '{"level":"DEBUG","timestamp":"2026-01-02T10:41:02.123Z","service":"traffic-gen","die_type":"fair","trace_id":"abc","span_id":"def","message":"Roll succeeded"}',
      ),
    ).toBe('10:41:02 DEBUG   Roll succeeded die_type=fair trace_id=abc');
    expect(humanLogLine('not json')).toBe('not json');
  });

  it('writes a plain progress line every interval when stderr is not a terminal', async () => {
    vi.useFakeTimers();
    try {
      const { stream, written } = stderr(false);
      const stats = new Stats(['fair']);
      const progress = new Progress({ terminal: new Terminal(stream), stats, describe: () => 'users 1/2 done' });
      stats.recordStart();
      stats.recordStart();
      stats.record({ die: 'fair', ok: false, status: '500', latencyMs: 5, traceId: undefined });
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
