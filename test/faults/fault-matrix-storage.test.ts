import { vi } from 'vitest';
import { describeFaultMatrix, STORAGE_FAULTS } from './fault-matrix';

// Every logger of the process at DEBUG (they read it when made, at import), so the canary scan has
// every line there is.
vi.hoisted(() => {
  process.env.POWERTOOLS_LOG_LEVEL = 'DEBUG';
});

/** The fault matrix (./fault-matrix.ts): S3 and DynamoDB out of reach, within and beyond the Retry budgets. */
describeFaultMatrix('storage faults', STORAGE_FAULTS);
