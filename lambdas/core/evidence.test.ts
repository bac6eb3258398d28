import { describe, expect, it } from 'vitest';
import { emailsNotFoundEntries, notFoundIncludes, withoutRawEmails } from './evidence';
import { emailSha256 } from './privacy';

const SUBJECT = 'Jane.Doe@Example.com';

describe('evidence without the raw email', () => {
  it("keeps Qualtrics' emailsNotFound as masked, hashed entries that still identify the subject", () => {
    const entries = emailsNotFoundEntries([SUBJECT, 'other@example.org']);
    expect(entries).toEqual([
      { maskedEmail: 'j***@example.com', emailSha256: emailSha256(SUBJECT) },
      { maskedEmail: 'o***@example.org', emailSha256: emailSha256('other@example.org') },
    ]);
    expect(JSON.stringify(entries).toLowerCase()).not.toContain('jane.doe');
    expect(notFoundIncludes(entries, emailSha256('jane.doe@example.com'))).toBe(true);
    expect(notFoundIncludes(entries.slice(1), emailSha256(SUBJECT))).toBe(false);
  });

  it('masks evidence stored before (raw addresses) and any address-shaped text, keeping the rest', () => {
    const stored = {
      erasureRequestId: 'PGR_1',
      statuses: [{ at: '2026-01-01T00:00:00.000Z', status: 'Completed' }],
      emailsNotFound: [SUBJECT, { maskedEmail: 'o***@example.org', emailSha256: 'ab'.repeat(32) }],
      failureReason: `could not erase ${SUBJECT}`,
      verification: { contactsRemaining: 0 },
    };
    const shown = withoutRawEmails(stored);
    expect(shown).toEqual({
      ...stored,
      emailsNotFound: [
        { maskedEmail: 'j***@example.com', emailSha256: emailSha256(SUBJECT) },
        { maskedEmail: 'o***@example.org', emailSha256: 'ab'.repeat(32) },
      ],
      failureReason: 'could not erase J***@Example.com',
    });
    expect(JSON.stringify(shown).toLowerCase()).not.toContain('jane.doe');
    // Idempotent: what is masked stays as it is.
    expect(withoutRawEmails(shown)).toEqual(shown);
  });
});
