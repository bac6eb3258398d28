// Lets `require` load this repository's TypeScript, so a fresh clone runs the CLI with no build step
// (README "The CLI"). Each .ts file is transformed to CommonJS by esbuild under tsconfig.json's
// options, and the result kept in node_modules/.cache/qualtrics-dsr/ keyed by the file's content: a
// later start compiles nothing. Everything else, node_modules included, loads as Node loads it,
// unexamined, which keeps a start short (tsx's hook also read and scanned every JavaScript file of
// every dependency: twice the CPU per start).
const { createHash } = require('node:crypto');
const { mkdirSync, readFileSync, renameSync, writeFileSync } = require('node:fs');
const Module = require('node:module');
const { join } = require('node:path');

const root = join(__dirname, '..');
const cacheDir = join(root, 'node_modules', '.cache', 'qualtrics-dsr');
const options = {
  loader: 'ts',
  format: 'cjs',
  target: `node${process.versions.node}`,
  // import() of a module of ours becomes require(), so a module loaded when it is needed comes
  // through this hook too.
  supported: { 'dynamic-import': false },
  // Stack traces name the .ts lines under NODE_OPTIONS=--enable-source-maps (off by default: it
  // costs every start a little, and the CLI never prints a stack).
  sourcemap: 'inline',
  tsconfigRaw: readFileSync(join(root, 'tsconfig.json'), 'utf8'),
};
const version = require('esbuild/package.json').version;
let esbuild;
let cacheWritable = true;

function compile(source, filename) {
  const key = createHash('sha256')
    .update(JSON.stringify([version, options, filename]))
    .update(source)
    .digest('hex');
  const cached = join(cacheDir, `${key}.js`);
  try {
    return readFileSync(cached, 'utf8');
  } catch {
    // Not compiled yet.
  }
  esbuild ??= require('esbuild');
  const { code } = esbuild.transformSync(source, { ...options, sourcefile: filename });
  if (cacheWritable) {
    try {
      mkdirSync(cacheDir, { recursive: true });
      // Written aside, then renamed: processes starting together never read half a file.
      const partial = `${cached}.${process.pid}.tmp`;
      writeFileSync(partial, code);
      renameSync(partial, cached);
    } catch {
      cacheWritable = false; // a read-only install: compile on every start instead
    }
  }
  return code;
}

Module._extensions['.ts'] = (module, filename) => {
  module._compile(compile(readFileSync(filename, 'utf8'), filename), filename);
};

// A module loaded when it is needed is written `import('./x.js')` (TypeScript's spelling, under
// nodenext, of the module ./x.ts): such a request finds the .ts file.
const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  try {
    return resolveFilename.call(this, request, ...rest);
  } catch (err) {
    if (err?.code !== 'MODULE_NOT_FOUND' || !request.startsWith('.') || !request.endsWith('.js')) throw err;
    return resolveFilename.call(this, `${request.slice(0, -3)}.ts`, ...rest);
  }
};
