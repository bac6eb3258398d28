import { vi } from 'vitest';
import { describeFaultMatrix, QUALTRICS_FAULTS } from './fault-matrix';

// Every logger of the process at DEBUG (they read it when made, at import), so the canary scan has
// every line there is.
vi.hoisted(() => {
  process.env.POWERTOOLS_LOG_LEVEL = 'DEBUG';
});

/** The fault matrix (./fault-matrix.ts): errors, silence, 429 storms, revoked tokens and failed jobs from Qualtrics. */
describeFaultMatrix('Qualtrics faults', QUALTRICS_FAULTS);
