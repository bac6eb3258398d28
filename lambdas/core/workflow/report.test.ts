import { Readable } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import { withLocalStorage } from '../../../test/support/local-storage';
import type { ExportWriter } from '../export-writer';
import type { RequestStore } from '../request-store';
import { customerDataFileKey, directoryFileKey, reportKey } from '../tables';
import { MAX_SHOWN_FILE_BYTES, writeReport } from './report';
import { fakeQualtrics, testEnv } from './testing';

let store: RequestStore;
let writer: ExportWriter;
withLocalStorage((s) => ({ store, writer } = s));

describe('writeReport', () => {
  it('reads small JSON and CSV files only: a large one is summarized, an archive described, neither read', async () => {
    const { record } = await store.create({ source: 'api', type: 'access', email: 'jane.doe@example.com' });
    const id = record.requestId;
    const big = `{"responses":[${Array.from({ length: 40_000 }, (_, i) => `{"responseId":"R_BIG${i}","note":"${'x'.repeat(40)}"}`).join(',')}]}`;
    expect(big.length).toBeGreaterThan(MAX_SHOWN_FILE_BYTES);
    await writer.putStream(
      customerDataFileKey(id, 'F_big', 'json'),
      Readable.from([Buffer.from(big)]),
      'application/json',
    );
    await writer.putStream(
      customerDataFileKey(id, 'F_zip', 'zip'),
      Readable.from([Buffer.from('PK\u0003\u0004zip')]),
      'application/zip',
    );
    await writer.putStream(
      customerDataFileKey(id, 'F_csv', 'csv'),
      Readable.from([Buffer.from('a,b\r\n1,R_CSV1\r\n')]),
      'text/csv',
    );
    await writer.putJson(directoryFileKey(id, 'POOL_A'), {
      directoryId: 'POOL_A',
      contacts: [{ contactId: 'CID_SMALL' }],
    });
    const env = testEnv({ store, writer, api: fakeQualtrics() });
    const reads = vi.spyOn(writer, 'readBytes');

    const stored = await writeReport(env, record, {
      completedAt: '2030-01-01T00:00:00.000Z',
      customerDataRequestId: 'CDR_1',
      fileIds: ['F_big', 'F_zip', 'F_csv'],
      directories: [{ directoryId: 'POOL_A', name: 'Customers', contactsFound: 1 }],
    });

    expect(stored.key).toBe(reportKey(id));
    expect(reads.mock.calls.map(([key]) => key).sort()).toEqual(
      [customerDataFileKey(id, 'F_csv', 'csv'), directoryFileKey(id, 'POOL_A')].sort(),
    );
    reads.mockRestore();
    const page = (await writer.readBytes(stored.key))!.toString('utf8');
    expect(page).toContain('CID_SMALL');
    expect(page).toContain('R_CSV1');
    expect(page).not.toContain('R_BIG0');
    expect(page).toContain('too large to show here');
    expect(page).toContain('it is a ZIP archive');
    // Rewritten by a retried step: the report never lists itself among the files it describes twice.
    const again = await writeReport(env, record, {
      completedAt: '2030-01-01T00:00:00.000Z',
      fileIds: [],
      directories: [],
    });
    const second = (await writer.readBytes(again.key))!.toString('utf8');
    expect(second.match(/<td><code>report\.html<\/code><\/td>/g)).toHaveLength(1);
  });
});
