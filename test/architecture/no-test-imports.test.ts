/**
 * Product code and tools never depend on the test tree: nothing under src/, scripts/, bench/ or
 * tools/ refers to a file under test/. And the Vault-compatible server stays a stand-alone tool:
 * nothing under tools/vault-compat/ refers to the daemon's src/.
 *
 * "Refers" covers static imports and re-exports (`from '…'`, `import '…'`), dynamic `import('…')`
 * and files located with `new URL('…', import.meta.url)` (scripts that spawn another file).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SOURCE_EXTENSIONS = /\.(?:ts|mts|cts|js|mjs|cjs)$/;

const REFERENCE_PATTERNS: readonly RegExp[] = [
  /\bfrom\s*['"]([^'"]+)['"]/g,
  /\bimport\s*['"]([^'"]+)['"]/g,
  /\bimport\s*\(\s*['"`]([^'"`]+)['"`]/g,
  /\bnew\s+URL\s*\(\s*['"`]([^'"`]+)['"`]\s*,\s*import\.meta\.url/g,
];

/** Every module specifier or import.meta.url-relative path in `text`, in source order per pattern. */
function referencedSpecifiers(text: string): string[] {
  return REFERENCE_PATTERNS.flatMap((pattern) => [...text.matchAll(pattern)].map((m) => m[1] ?? ''));
}

/** The absolute path a relative or absolute specifier names; null for packages and node: builtins. */
function resolveSpecifier(file: string, specifier: string): string | null {
  if (specifier.startsWith('.')) return resolve(dirname(file), specifier);
  if (specifier.startsWith('/')) return resolve(specifier);
  if (specifier.startsWith('file:')) return fileURLToPath(specifier);
  return null;
}

function isInside(path: string, dir: string): boolean {
  return path === dir || path.startsWith(dir + sep);
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && SOURCE_EXTENSIONS.test(entry.name))
    .map((entry) => join(entry.parentPath, entry.name))
    .filter((path) => !path.split(sep).includes('node_modules'));
}

interface Offence {
  readonly file: string;
  readonly specifier: string;
}

/** Each reference from a file under one of `fromDirs` that resolves into `forbiddenDir`. */
function referencesInto(fromDirs: readonly string[], forbiddenDir: string): { scanned: number; offences: Offence[] } {
  const files = fromDirs.flatMap((dir) => sourceFiles(join(ROOT, dir)));
  const forbidden = join(ROOT, forbiddenDir);
  const offences = files.flatMap((file) =>
    referencedSpecifiers(readFileSync(file, 'utf8'))
      .filter((specifier) => {
        const target = resolveSpecifier(file, specifier);
        return target !== null && isInside(target, forbidden);
      })
      .map((specifier) => ({ file: relative(ROOT, file), specifier })),
  );
  return { scanned: files.length, offences };
}

const describeOffences = (offences: readonly Offence[]): string =>
  offences.map((o) => `${o.file}: '${o.specifier}'`).join('\n');

describe('no product or tool code depends on test/', () => {
  it('finds every form of reference it checks', () => {
    const sample = [
      "import { a } from '../test/a.js';",
      "import type { B } from \"../../test/b.js\";",
      "export { c } from '../test/c.js';",
      "import '../test/side-effect.js';",
      "const d = await import('../test/d.js');",
      "const e = fileURLToPath(new URL('../test/e.ts', import.meta.url));",
      "import pg from 'pg';",
    ].join('\n');
    assert.deepEqual(referencedSpecifiers(sample).sort(), [
      '../../test/b.js',
      '../test/a.js',
      '../test/c.js',
      '../test/d.js',
      '../test/e.ts',
      '../test/side-effect.js',
      'pg',
    ]);
  });

  it('src/, scripts/, bench/ and tools/ refer to nothing under test/', () => {
    const { scanned, offences } = referencesInto(['src', 'scripts', 'bench', 'tools'], 'test');
    assert.ok(scanned > 50, `expected to scan the source tree, scanned ${scanned} files`);
    assert.equal(offences.length, 0, `files that refer into test/:\n${describeOffences(offences)}`);
  });

  it('tools/vault-compat/ refers to nothing under src/ (the tool does not import the daemon)', () => {
    const { scanned, offences } = referencesInto(['tools/vault-compat'], 'src');
    assert.ok(scanned > 10, `expected to scan the tool, scanned ${scanned} files`);
    assert.equal(offences.length, 0, `tool files that refer into src/:\n${describeOffences(offences)}`);
  });
});
