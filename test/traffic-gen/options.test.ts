import { describe, expect, it } from 'vitest';
import { DEFAULTS, parseCommand, parseDuration, parseThinkTime, UsageError } from '../../traffic-gen/src/options';

function run(...argv: string[]) {
  const command = parseCommand(argv);
  if (command.command !== 'run') throw new Error(`expected a run, got ${command.command}`);
  return command.options;
}

describe('traffic-gen options', () => {
  it('defaults to the user model of the seed: 10 users, up to 20 rolls, 0.5-2 s think time', () => {
    expect(run()).toEqual({
      model: 'users',
      url: 'http://localhost:8105',
      dice: undefined,
      seed: undefined,
      timeoutSeconds: DEFAULTS.timeoutSeconds,
      batchShare: 0.3,
      maxBatchSize: 10,
      json: false,
      users: 10,
      maxRolls: 20,
      thinkTime: { min: 0.5, max: 2 },
    });
  });

  it('reads the user model options', () => {
    expect(
      run('--users', '5', '--max-rolls=3', '--think-time', '0', '--dice', 'fair, risky,fair', '--seed', '42', '--json'),
    ).toMatchObject({
      model: 'users',
      users: 5,
      maxRolls: 3,
      thinkTime: { min: 0, max: 0 },
      dice: ['fair', 'risky'],
      seed: 42,
      json: true,
    });
  });

  it('turns the open model on with --rate, running until stopped unless --duration is given', () => {
    expect(run('--rate', '2.5')).toMatchObject({
      model: 'open',
      rate: 2.5,
      durationSeconds: undefined,
      maxInFlight: 256,
    });
    expect(run('--rate', '100', '--duration', '2m', '--max-in-flight', '10')).toMatchObject({
      rate: 100,
      durationSeconds: 120,
      maxInFlight: 10,
    });
  });

  it('reads the share of batch rollers and the largest batch, for both models', () => {
    expect(run('--batch-share', '0.5', '--max-batch', '20')).toMatchObject({ batchShare: 0.5, maxBatchSize: 20 });
    expect(run('--rate', '5', '--batch-share', '0', '--max-batch', '1')).toMatchObject({
      model: 'open',
      batchShare: 0,
      maxBatchSize: 1,
    });
  });

  it('keeps a path prefix of --url and drops its trailing slash', () => {
    expect(run('--url', 'http://127.0.0.1:9000/dice/')).toMatchObject({ url: 'http://127.0.0.1:9000/dice' });
  });

  it('answers --help and --version before validating anything else', () => {
    expect(parseCommand(['--users', '0', '--help'])).toEqual({ command: 'help' });
    expect(parseCommand(['-v'])).toEqual({ command: 'version' });
  });

  it.each([
    [['--users', '0'], '--users must be a whole number from 1 to 10000 (got "0")'],
    [['--users', '2.5'], '--users must be a whole number'],
    [['--max-rolls', 'many'], '--max-rolls must be a whole number'],
    [['--think-time', '2-1'], '--think-time must be MIN-MAX seconds with MIN <= MAX'],
    [['--think-time=-1'], '--think-time must be'],
    [['--rate', '0'], '--rate must be a number greater than 0 (got "0")'],
    [['--rate', '10', '--duration', 'soon'], '--duration must be a positive duration'],
    [['--duration', '10s'], '--duration needs --rate'],
    [['--rate', '5', '--users', '3'], '--users belongs to the user model and cannot be combined with --rate'],
    [['--url', 'ftp://example.org'], '--url must be an http(s) URL'],
    [['--url', 'localhost:8105'], '--url must be an http(s) URL'],
    [['--dice', 'fair,'], '--dice must be a comma-separated list of die names'],
    [['--seed', '4294967296'], '--seed must be a whole number from 0 to 4294967295'],
    [['--batch-share', '1.5'], '--batch-share must be a number from 0 to 1 (got "1.5")'],
    [['--batch-share', 'half'], '--batch-share must be a number from 0 to 1'],
    [['--max-batch', '21'], '--max-batch must be a whole number from 1 to 20 (got "21")'],
    [['--max-batch', '0'], '--max-batch must be a whole number from 1 to 20'],
    [['--users'], "Option '--users <value>' argument missing"],
    [['--user', '3'], "Unknown option '--user'"],
    [['extra'], "Unexpected argument 'extra'"],
  ])('rejects %j with a message naming the option', (argv, message) => {
    expect(() => parseCommand(argv)).toThrow(UsageError);
    expect(() => parseCommand(argv)).toThrow(message);
  });

  it('reads durations with units and think times as ranges or one value', () => {
    expect(parseDuration('duration', '500ms')).toBe(0.5);
    expect(parseDuration('duration', '1.5m')).toBe(90);
    expect(parseDuration('duration', '1h')).toBe(3600);
    expect(parseThinkTime('0.5-2')).toEqual({ min: 0.5, max: 2 });
    expect(parseThinkTime('1')).toEqual({ min: 1, max: 1 });
  });
});
