import { describe, expect, it } from 'vitest';
import { refuseForeignCaller } from './caller-guard';

const PORT = 3123;
const headers = (...pairs: Array<[string, string]>) => pairs.flat();
const verdict = (method: string, ...pairs: Array<[string, string]>) =>
  refuseForeignCaller(method, headers(...pairs), PORT)?.status ?? 'served';

describe('refuseForeignCaller', () => {
  it('serves its own loopback address and port, by IP or as localhost, in any case', () => {
    expect(verdict('GET', ['Host', `127.0.0.1:${PORT}`])).toBe('served');
    expect(verdict('GET', ['host', `localhost:${PORT}`])).toBe('served');
    expect(verdict('GET', ['HOST', `LocalHost:${PORT}`])).toBe('served');
  });

  it('answers 421 to any other Host: a rebound name, another port, no port, none, or two', () => {
    expect(verdict('GET', ['Host', `evil.example:${PORT}`])).toBe(421);
    expect(verdict('GET', ['Host', 'evil.example'])).toBe(421);
    expect(verdict('GET', ['Host', `127.0.0.1:${PORT + 1}`])).toBe(421);
    expect(verdict('GET', ['Host', '127.0.0.1'])).toBe(421);
    expect(verdict('GET', ['Host', `[::1]:${PORT}`])).toBe(421);
    expect(verdict('GET', ['Host', `127.0.0.1.evil.example:${PORT}`])).toBe(421);
    expect(verdict('GET')).toBe(421);
    expect(verdict('GET', ['Host', `127.0.0.1:${PORT}`], ['Host', `evil.example:${PORT}`])).toBe(421);
    // Also a state-changing request: the Host is checked first.
    expect(verdict('POST', ['Host', 'evil.example'], ['Origin', 'http://evil.example'])).toBe(421);
  });

  it('on port 80 a Host without the port is its own too', () => {
    expect(refuseForeignCaller('GET', headers(['Host', 'localhost']), 80)).toBeUndefined();
    expect(refuseForeignCaller('GET', headers(['Host', '127.0.0.1:80']), 80)).toBeUndefined();
  });

  it('answers 403 to a state-changing request from another origin', () => {
    const host: [string, string] = ['Host', `127.0.0.1:${PORT}`];
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE', 'post']) {
      expect(verdict(method, host, ['Origin', 'https://evil.example'])).toBe(403);
    }
    expect(verdict('POST', host, ['Origin', 'null'])).toBe(403); // a sandboxed frame or a file:// page
    expect(verdict('POST', host, ['Origin', `http://127.0.0.1:${PORT + 1}`])).toBe(403);
    expect(verdict('POST', host, ['Origin', `https://127.0.0.1:${PORT}`])).toBe(403);
    expect(verdict('POST', host, ['Origin', `http://127.0.0.1:${PORT}`], ['Origin', 'http://evil'])).toBe(
      403,
    );
  });

  it('serves its own origin, requests without an Origin (curl, the CLI), and reads from anywhere', () => {
    const host: [string, string] = ['Host', `127.0.0.1:${PORT}`];
    expect(verdict('POST', host, ['Origin', `http://127.0.0.1:${PORT}`])).toBe('served');
    expect(verdict('POST', host, ['Origin', `http://localhost:${PORT}`])).toBe('served');
    expect(verdict('POST', host)).toBe('served');
    // A cross-origin read cannot see the answer (no CORS headers), and the Host check stops rebinding.
    expect(verdict('GET', host, ['Origin', 'https://evil.example'])).toBe('served');
  });

  it('never quotes the header values back', () => {
    const hostile = 'j.doe@example.com<script>';
    const refusals = [
      refuseForeignCaller('GET', headers(['Host', hostile]), PORT),
      refuseForeignCaller('POST', headers(['Host', `127.0.0.1:${PORT}`], ['Origin', hostile]), PORT),
    ];
    for (const r of refusals) {
      expect(r).toBeDefined();
      expect(r!.message).not.toContain('j.doe');
    }
  });
});
