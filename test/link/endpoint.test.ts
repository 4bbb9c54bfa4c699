import { describe, expect, it } from 'vitest';
import {
  enforceTransportSecurity,
  isLocalEndpoint,
  LinkSecurityError,
} from '../../src/link/index.js';
import { memoryLog } from '../helpers/link-fixtures.js';

const LOCAL = [
  'ipc:///tmp/pons/tokens',
  'inproc://tokens',
  'tcp://127.0.0.1:5555',
  'tcp://127.8.9.10:1',
  'tcp://localhost:5555',
  'tcp://[::1]:5555',
];

const REMOTE = [
  'tcp://0.0.0.0:5555',
  'tcp://*:5555',
  'tcp://10.0.0.2:5555',
  'tcp://192.168.1.5:5555',
  'tcp://example.com:5555',
  'tcp://[::]:5555',
  'tcp://127.0.0.1.evil.com:1',
];

describe('isLocalEndpoint', () => {
  it.each(LOCAL)('%s stays on this host', (endpoint) => {
    expect(isLocalEndpoint(endpoint)).toBe(true);
  });

  it.each(REMOTE)('%s leaves this host', (endpoint) => {
    expect(isLocalEndpoint(endpoint)).toBe(false);
  });

  it.each([
    'tcp://localhost.evil.com:5555',
    'tcp://1127.0.0.1:5555',
    'tcp://[::1.evil]:5555',
    'udp://127.0.0.1:5555',
    'pgm://127.0.0.1:5555',
    'tcp://127.0.0.1',
    '127.0.0.1:5555',
    '',
  ])('%s is not treated as local', (endpoint) => {
    expect(isLocalEndpoint(endpoint)).toBe(false);
  });
});

describe('enforceTransportSecurity', () => {
  it.each(REMOTE)('refuses %s without CURVE and without --insecure', (endpoint) => {
    const log = memoryLog();
    let thrown: unknown;
    try {
      enforceTransportSecurity([endpoint], false, false, log);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(LinkSecurityError);
    expect((thrown as Error).message).toContain(endpoint);
    expect((thrown as Error).message).toContain('--insecure');
    expect(log.lines).toEqual([]);
  });

  it('refuses when any one endpoint of several leaves the host', () => {
    const log = memoryLog();
    expect(() =>
      enforceTransportSecurity(['tcp://127.0.0.1:5555', 'tcp://10.0.0.2:5556'], false, false, log),
    ).toThrow(/tcp:\/\/10\.0\.0\.2:5556/);
  });

  it('passes a non-local endpoint with CURVE, silently', () => {
    const log = memoryLog();
    expect(() =>
      enforceTransportSecurity(['tcp://0.0.0.0:5555', 'tcp://10.0.0.2:5556'], true, false, log),
    ).not.toThrow();
    expect(log.lines).toEqual([]);
  });

  it('passes local endpoints without CURVE, silently', () => {
    const log = memoryLog();
    expect(() => enforceTransportSecurity(LOCAL, false, false, log)).not.toThrow();
    expect(log.lines).toEqual([]);
  });

  it('with --insecure, passes and logs a WARN line naming each non-local endpoint', () => {
    const log = memoryLog();
    expect(() =>
      enforceTransportSecurity(
        ['tcp://127.0.0.1:5555', 'tcp://0.0.0.0:5999', 'tcp://10.0.0.2:6000'],
        false,
        true,
        log,
      ),
    ).not.toThrow();
    expect(log.lines).toHaveLength(2);
    expect(log.lines[0]).toMatch(/^WARN /);
    expect(log.lines[0]).toContain('tcp://0.0.0.0:5999');
    expect(log.lines[1]).toMatch(/^WARN /);
    expect(log.lines[1]).toContain('tcp://10.0.0.2:6000');
    expect(log.lines.join('\n')).not.toContain('127.0.0.1');
  });
});
