import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { npmScript, output, ROOT, run, writeTree } from './support.js';

const GENERATOR = 'proto-loader-gen-types';

/**
 * The `proto:gen` script's generator and arguments with its output directory swapped for `outDir`,
 * so the check regenerates with exactly the committed options and cannot drift from them.
 */
function regenerateCommand(script: string, outDir: string): { file: string; args: string[]; committedOutDir: string } {
  const [file, ...rest] = script.trim().split(/\s+/);
  assert.equal(file, GENERATOR, `proto:gen is expected to run ${GENERATOR}: ${script}`);
  const outDirArgs = rest.filter((arg) => arg.startsWith('--outDir='));
  assert.equal(outDirArgs.length, 1, `proto:gen is expected to name one --outDir=DIR: ${script}`);
  const committedOutDir = (outDirArgs[0] ?? '').slice('--outDir='.length);
  return { file, args: rest.map((arg) => (arg.startsWith('--outDir=') ? `--outDir=${outDir}` : arg)), committedOutDir };
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

interface TreeDiff {
  /** Written by the generator, absent from the committed tree. */
  readonly missing: string[];
  /** Committed, but the generator does not write it. */
  readonly extra: string[];
  /** In both, with different bytes. */
  readonly different: string[];
}

/** Compares the generator's fresh output with the committed tree, file by file and byte by byte. */
async function compareTrees(freshDir: string, committedDir: string): Promise<TreeDiff> {
  const [fresh, committed] = await Promise.all([listFiles(freshDir), listFiles(committedDir)]);
  const different: string[] = [];
  for (const file of fresh.filter((f) => committed.includes(f))) {
    const [a, b] = await Promise.all([readFile(join(freshDir, file)), readFile(join(committedDir, file))]);
    if (!a.equals(b)) different.push(file);
  }
  return { missing: fresh.filter((f) => !committed.includes(f)), extra: committed.filter((f) => !fresh.includes(f)), different };
}

describe('architecture: generated code stays generated', () => {
  let outDir: string;
  let committedDir: string;
  before(async () => {
    outDir = await mkdtemp(join(tmpdir(), 'jitgate-proto-gen-'));
    const { file, args, committedOutDir } = regenerateCommand(npmScript('proto:gen'), outDir);
    committedDir = join(ROOT, committedOutDir);
    const result = await run(file, args);
    assert.equal(result.code, 0, output(result));
  });
  after(async () => {
    await rm(outDir, { recursive: true, force: true });
  });

  it('regenerates into src/generated, from proto/', () => {
    assert.equal(relative(ROOT, committedDir), join('src', 'generated'));
  });

  it('src/generated is exactly what the generator writes: no file missing, extra or different', async () => {
    assert.ok((await listFiles(outDir)).length > 0, 'the generator wrote nothing');
    assert.deepEqual(
      await compareTrees(outDir, committedDir),
      { missing: [], extra: [], different: [] },
      'src/generated is stale or hand-edited: run `npm run proto:gen` and commit',
    );
  });

  it('the comparison catches a missing, an extra and a changed file', async () => {
    const fixture = await mkdtemp(join(tmpdir(), 'jitgate-proto-diff-'));
    try {
      await writeTree(join(fixture, 'fresh'), { 'a.ts': 'a\n', 'sub/b.ts': 'b\n', 'sub/c.ts': 'c\n' });
      await writeTree(join(fixture, 'committed'), { 'a.ts': 'a\n', 'sub/b.ts': 'b edited\n', 'd.ts': 'd\n' });
      assert.deepEqual(await compareTrees(join(fixture, 'fresh'), join(fixture, 'committed')), {
        missing: [join('sub', 'c.ts')],
        extra: ['d.ts'],
        different: [join('sub', 'b.ts')],
      });
    } finally {
      await rm(fixture, { recursive: true, force: true });
    }
  });

  it('the regenerate command follows the script (outDir swapped, every other option kept)', () => {
    const script = '  proto-loader-gen-types --longs=String --outDir=src/generated  a.proto ';
    assert.deepEqual(regenerateCommand(script, '/tmp/x'), {
      file: GENERATOR,
      args: ['--longs=String', '--outDir=/tmp/x', 'a.proto'],
      committedOutDir: 'src/generated',
    });
    assert.throws(() => regenerateCommand('protoc --ts_out=src/generated a.proto', '/tmp/x'), /expected to run proto-loader-gen-types/);
    assert.throws(() => regenerateCommand('proto-loader-gen-types -O src/generated a.proto', '/tmp/x'), /one --outDir=DIR/);
  });
});
