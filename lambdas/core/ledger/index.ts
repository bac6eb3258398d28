/** The request ledger: vocabularies, deadlines, retention settings, the records CSV, list cursors, metrics. */
export * from './cursor';
export * from './due-dates';
export * from './jurisdictions';
export * from './metrics';
export * from './query';
export * from './records-csv';
export * from './retention';
export * from './time';
