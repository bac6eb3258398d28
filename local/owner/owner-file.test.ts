import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ownerFilePath, processAlive, readOwnerFile, removeOwnerFile, writeOwnerFile } from './owner-file';

const dir = mkdtempSync(join(tmpdir(), 'qdsr-owner-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('owner.json', () => {
  const info = { pid: process.pid, apiUrl: 'http://127.0.0.1:4321', startedAt: '2026-01-01T00:00:00.000Z' };

  it('is written whole, for this user only, and read back', () => {
    writeOwnerFile(dir, info);
    expect(statSync(ownerFilePath(dir)).mode & 0o777).toBe(0o600);
    expect(readOwnerFile(dir)).toEqual(info);
  });

  it('is ignored when it is anything else: not JSON, another shape, or an address off loopback', () => {
    for (const text of [
      '{',
      '[]',
      JSON.stringify({ ...info, pid: 'x' }),
      JSON.stringify({ ...info, apiUrl: 'http://evil.example:80' }),
      JSON.stringify({ ...info, apiUrl: 'http://127.0.0.1:4321/path' }),
    ]) {
      writeFileSync(ownerFilePath(dir), text);
      expect(readOwnerFile(dir), text).toBeUndefined();
    }
  });

  it('is removed only by the process it names', () => {
    writeOwnerFile(dir, { ...info, pid: process.pid + 1 });
    removeOwnerFile(dir);
    expect(existsSync(ownerFilePath(dir))).toBe(true);
    writeOwnerFile(dir, info);
    removeOwnerFile(dir);
    expect(existsSync(ownerFilePath(dir))).toBe(false);
  });

  it('tells a running process from one that is gone', () => {
    expect(processAlive(process.pid)).toBe(true);
    expect(processAlive(2 ** 22 + 12_345)).toBe(false);
  });
});
