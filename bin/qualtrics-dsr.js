#!/usr/bin/env node
// Entry point for `qualtrics-dsr` and `npm start`: runs the TypeScript CLI as it is in the clone
// (./load-typescript.js compiles it, once).
require('./load-typescript');
require('../local/engine/polyfills.ts');
require('../local/cli/main.ts')
  .main(process.argv)
  .then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      process.stderr.write(`qualtrics-dsr: internal error: ${err?.message ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
