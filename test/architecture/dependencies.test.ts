import assert from 'node:assert/strict';
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { IModule } from 'dependency-cruiser';
import { findFolderCycles } from '../../scripts/check-folder-cycles.js';
import { npmScript, output, ROOT, run, runNpmScript, writeTree, type RunResult } from './support.js';

const CONFIG = join(ROOT, '.dependency-cruiser.mjs');
const KNOWN_VIOLATIONS = join(ROOT, '.dependency-cruiser.known-violations.json');
const FOLDER_CYCLES = join(ROOT, 'scripts', 'check-folder-cycles.ts');

interface Violation {
  readonly from: string;
  readonly to: string;
  readonly rule: { readonly name: string };
}

function violations(result: RunResult): Violation[] {
  return (JSON.parse(result.stdout) as { summary: { violations: Violation[] } }).summary.violations;
}

const describeViolation = (v: Violation): string => `${v.rule.name}: ${v.from} → ${v.to}`;

function depcruise(cwd: string, args: readonly string[]): ReturnType<typeof run> {
  return run('depcruise', ['--config', CONFIG, ...args], { cwd });
}

function folderCycles(baseDir: string, roots: readonly string[] = ['src']): ReturnType<typeof run> {
  return run(process.execPath, ['--import', 'tsx', FOLDER_CYCLES, '--base-dir', baseDir, ...roots]);
}

describe('architecture: dependencies', () => {
  it('npm run lint:deps passes on the tree (layering rules, no module cycle, no folder cycle)', async () => {
    const result = await runNpmScript('lint:deps');
    assert.equal(result.code, 0, output(result));
    assert.match(result.stdout, /no dependency violations found/);
    assert.match(result.stdout, /no folder cycles in src/);
  });

  it('every known violation still occurs and none is a cycle (the baseline only shrinks)', async () => {
    const known = JSON.parse(await readFile(KNOWN_VIOLATIONS, 'utf8')) as Violation[];
    assert.deepEqual(
      known.filter((v) => v.rule.name === 'no-circular'),
      [],
      'module cycles are never baselined',
    );
    // The same files as lint:deps, read from the script so the two cannot drift apart.
    const cruised = /depcruise .*"([^"]+)"/.exec(npmScript('lint:deps'))?.[1];
    assert.ok(cruised !== undefined, 'lint:deps names the files it cruises in double quotes');
    const result = await depcruise(ROOT, ['--output-type', 'json', cruised]);
    const actual = new Set(violations(result).map(describeViolation));
    const stale = known.map(describeViolation).filter((k) => !actual.has(k));
    assert.deepEqual(stale, [], 'fixed: delete these entries from .dependency-cruiser.known-violations.json');
  });

  describe('on a fixture tree that breaks the rules', () => {
    let dir: string;
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'jitgate-arch-'));
      await writeTree(dir, {
        'package.json': '{ "name": "fixture", "type": "module" }\n',
        'tsconfig.json': JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true } }),
        // A module cycle.
        'src/common/a.ts': "import { b } from './b.js';\nexport const a = (): number => b() + 1;\n",
        'src/common/b.ts': "import { a } from './a.js';\nexport const b = (): number => (a.length > 0 ? 1 : 0);\n",
        // Layering: model → daemon, client → daemon, daemon → client, state → gate, src → test, tools → src.
        'src/model/request.ts': "import type { Store } from '../daemon/state/store.js';\nexport type Request = Store;\n",
        'src/daemon/state/store.ts': "import type { Gate } from '../gate/types.js';\nexport type Store = Gate;\n",
        'src/daemon/gate/types.ts': 'export interface Gate { readonly id: string }\n',
        'src/daemon/grpc/server.ts': "import { format } from '../../client/format.js';\nexport const serve = format;\n",
        'src/client/format.ts': "export const format = (s: string): string => s;\n",
        'src/client/client.ts': "import { serve } from '../daemon/grpc/server.js';\nexport const connect = serve;\n",
        'scripts/dev.ts': "import { helper } from '../test/support/helper.js';\nhelper();\n",
        'test/support/helper.ts': 'export function helper(): void {}\n',
        'tools/compat/server.ts': "import { format } from '../../src/client/format.js';\nexport const compat = format;\n",
        // The CLI may use the daemon's offline parts (config, policy), nothing that serves; the SDK never uses the CLI.
        'src/cli/cli.ts': "import { serve } from '../daemon/grpc/server.js';\nexport const main = serve;\n",
        'src/client/help.ts': "import { main } from '../cli/cli.js';\nexport const help = main;\n",
      });
    });
    after(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it('depcruise fails and names each broken rule', async () => {
      const files = '{src,scripts,tools,test}/**/*.ts';
      // The default reporter sets the exit code; the JSON one (always exit 0) says exactly what broke.
      const [verdict, report] = await Promise.all([depcruise(dir, [files]), depcruise(dir, ['--output-type', 'json', files])]);
      assert.notEqual(verdict.code, 0, output(verdict));
      const found = violations(report).map(describeViolation).sort();
      assert.deepEqual(
        found,
        [
          'cli-uses-daemon-offline-parts-only: src/cli/cli.ts → src/daemon/grpc/server.ts',
          'client-not-to-cli: src/client/help.ts → src/cli/cli.ts',
          'client-not-to-daemon: src/client/client.ts → src/daemon/grpc/server.ts',
          'daemon-infrastructure-not-to-gate: src/daemon/state/store.ts → src/daemon/gate/types.ts',
          'daemon-not-to-client: src/daemon/grpc/server.ts → src/client/format.ts',
          'model-imports-only-generated: src/model/request.ts → src/daemon/state/store.ts',
          'no-circular: src/common/a.ts → src/common/b.ts',
          'no-test-imports: scripts/dev.ts → test/support/helper.ts',
          'tools-not-to-src: tools/compat/server.ts → src/client/format.ts',
        ],
      );
    });

    it('the folder-cycle check fails on folders that import each other without any module cycle', async () => {
      const tree = join(dir, 'folders');
      await writeTree(tree, {
        'src/daemon/audit/trail.ts': "import type { Row } from '../vault/rows.js';\nexport type Trail = Row[];\n",
        'src/daemon/vault/rows.ts': 'export interface Row { readonly id: string }\n',
        'src/daemon/vault/broker.ts': "import type { Entry } from '../audit/entry.js';\nexport type Broker = Entry;\n",
        'src/daemon/audit/entry.ts': 'export interface Entry { readonly at: number }\n',
      });
      const result = await folderCycles(tree);
      assert.equal(result.code, 1, output(result));
      assert.match(result.stderr, /folder cycle: src\/daemon\/audit ↔ src\/daemon\/vault/);
      assert.match(result.stderr, /src\/daemon\/audit\/trail\.ts → src\/daemon\/vault\/rows\.ts/);
    });
  });
});

describe('folder cycles, level by level', () => {
  const modules = (edges: Record<string, string[]>): IModule[] =>
    Object.entries(edges).map(([source, targets]) => ({
      source,
      valid: true,
      dependencies: targets.map((resolved) => ({
        resolved,
        module: resolved,
        moduleSystem: 'es6' as const,
        coreModule: false,
        couldNotResolve: false,
        dependencyTypes: ['local' as const],
        dynamic: false,
        exoticallyRequired: false,
        followable: true,
        valid: true,
        circular: false,
      })),
    })) as IModule[];

  it('a folder and its own subfolders may use each other (façade → part → ports)', () => {
    const cycles = findFolderCycles(
      modules({
        'src/daemon/gate/access-gate.ts': ['src/daemon/gate/pending/intake.ts'],
        'src/daemon/gate/pending/intake.ts': ['src/daemon/gate/ports.ts'],
        'src/daemon/gate/ports.ts': [],
      }),
      ['src'],
    );
    assert.deepEqual(cycles, []);
  });

  it('sibling subfolders may not (pending ↔ grants), reported at their depth', () => {
    const cycles = findFolderCycles(
      modules({
        'src/daemon/gate/pending/intake.ts': ['src/daemon/gate/grants/mint.ts'],
        'src/daemon/gate/grants/mint.ts': [],
        'src/daemon/gate/grants/revoke.ts': ['src/daemon/gate/pending/expiry.ts'],
        'src/daemon/gate/pending/expiry.ts': [],
      }),
      ['src'],
    );
    assert.deepEqual(
      cycles.map((c) => ({ depth: c.depth, folders: c.folders })),
      [{ depth: 4, folders: ['src/daemon/gate/grants', 'src/daemon/gate/pending'] }],
    );
  });

  it('a cycle through nested files counts for the folders that hold them (gate ↔ state)', () => {
    const cycles = findFolderCycles(
      modules({
        'src/daemon/gate/grants/mint.ts': ['src/daemon/state/store.ts'],
        'src/daemon/state/store.ts': [],
        'src/daemon/state/rows.ts': ['src/daemon/gate/ports.ts'],
        'src/daemon/gate/ports.ts': [],
      }),
      ['src'],
    );
    assert.deepEqual(
      cycles.map((c) => c.folders),
      [['src/daemon/gate', 'src/daemon/state']],
    );
  });

  it('a three-folder cycle is one cycle, and files outside the roots are ignored', () => {
    const cycles = findFolderCycles(
      modules({
        'src/a/x.ts': ['src/b/y.ts', 'test/t.ts'],
        'src/b/y.ts': ['src/c/z.ts'],
        'src/c/z.ts': ['src/a/x.ts'],
        'test/t.ts': ['src/a/x.ts'],
      }),
      ['src'],
    );
    assert.deepEqual(
      cycles.map((c) => c.folders),
      [['src/a', 'src/b', 'src/c']],
    );
  });
});
