/**
 * Fuzz: `check-config` on random YAML and on mutations of deploy/jitgated.example.yaml. The config
 * phase never throws (a throw is exit 1 with no key named, or a crash); every problem is one line
 * that names what is wrong, with no stack trace; a mutation that adds a problem names its key. A
 * few cases go through the real `jitgated check-config` bin too: exit 78 (EX_CONFIG), every stderr
 * line `jitgated: invalid config FILE: …`.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { parse, stringify } from 'yaml';
import { checkConfigText } from '../../src/daemon/config/check-config.js';
import { problemText, type ConfigProblem } from '../../src/daemon/config/config-problem.js';
import { ROOT } from '../support/daemon-process.js';
import { fuzzOptions } from './fuzz-runs.js';

const EX_CONFIG = 78;
const EXAMPLE = join(ROOT, 'deploy/jitgated.example.yaml');
const BIN = join(ROOT, 'bin/jitgated.js');

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Path = readonly (string | number)[];

/** Every problem is a single line with a message, and shows nothing of the code that found it. */
function assertWellFormed(problems: readonly ConfigProblem[], input: string): void {
  for (const p of problems) {
    const text = problemText(p);
    assert.equal(typeof p.path, 'string');
    assert.ok(p.message.trim() !== '', `empty message for ${JSON.stringify(p)} from ${JSON.stringify(input.slice(0, 300))}`);
    assert.ok(!text.includes('\n'), `multi-line problem ${JSON.stringify(text)}`);
    assert.doesNotMatch(text, /\bat .+:\d+:\d+\)?$|\[object Object\]|TypeError|ReferenceError|RangeError|Cannot read propert/, `${text} from ${JSON.stringify(input.slice(0, 300))}`);
  }
}

/** YAML-ish text: the tokens that confuse parsers (anchors, tags, merges, flow, block scalars, directives). */
const yamlish = fc
  .array(
    fc.oneof(
      fc.constantFrom('listen:', 'vault:', 'resources:', 'policies:', 'identity:', 'notifiers:', 'http:', 'state:', 'audit:', 'limits:', 'groups:', 'ttl:'),
      fc.constantFrom(' ', '  ', '\n', '\t', '- ', ': ', '? ', ',', '{', '}', '[', ']', '"', "'", '|', '>-', '#', '---\n', '...\n', '%YAML 1.2\n'),
      fc.constantFrom('&a ', '*a', '<<: *a', '!!binary ', '!!str ', '!!map ', '!!set ', '!!omap ', '!<tag:x> ', '!!js/function '),
      fc.constantFrom('null', '~', 'true', 'yes', '0x10', '0o7', '1e400', '-.inf', '.nan', '60s', '0660', '__proto__', 'constructor', '127.0.0.1:0'),
      fc.string({ maxLength: 8 }),
    ),
    { maxLength: 40 },
  )
  .map((parts) => parts.join(''));

const randomText = fc.oneof(
  yamlish,
  fc.string({ maxLength: 200 }),
  fc.string({ unit: 'binary', maxLength: 100 }),
  fc.jsonValue({ maxDepth: 4 }).map((v) => stringify(v)),
  fc.constantFrom('', '\n', '---', 'a: &a [*a]', `a: &a [x]\n${Array.from({ length: 9 }, (_, i) => `b${String(i)}: &b${String(i)} [${Array(9).fill(i === 0 ? '*a' : `*b${String(i - 1)}`).join(',')}]`).join('\n')}`),
);

function paths(value: Json, prefix: Path = []): Path[] {
  const out: Path[] = [prefix];
  if (Array.isArray(value)) value.forEach((v, i) => out.push(...paths(v, [...prefix, i])));
  else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) out.push(...paths(v, [...prefix, k]));
  return out;
}

function at(doc: Json, path: Path): Json | undefined {
  let cur: Json | undefined = doc;
  for (const key of path) cur = cur !== null && typeof cur === 'object' ? (cur as Record<string | number, Json>)[key] : undefined;
  return cur;
}

/** An own property even for `__proto__` (plain assignment would set the prototype instead). */
function put(container: Json, key: string | number, value: Json): void {
  Object.defineProperty(container, key, { value, enumerable: true, writable: true, configurable: true });
}

const ODD_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', '', ' ', 'ttl', 'name', 'vault', 'token', 'password', 'secret'];
const oddValue: fc.Arbitrary<Json> = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json>,
  fc.constantFrom<Json>(null, '', [], {}, 0, -1, 1.5, 2 ** 53, 1e308, -1e308, true, '0s', '-5m', '99999999h', 'group:', 'group:nobody', '*', '**', '\u0000', '\u202e', 'a'.repeat(5000)),
);

type Mutation =
  | { readonly kind: 'set'; readonly pick: number; readonly value: Json }
  | { readonly kind: 'delete'; readonly pick: number }
  | { readonly kind: 'add'; readonly pick: number; readonly key: string; readonly value: Json }
  | { readonly kind: 'copy'; readonly pick: number; readonly from: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), pick: fc.nat(), value: oddValue }),
  fc.record({ kind: fc.constant('delete' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('add' as const), pick: fc.nat(), key: fc.oneof(fc.constantFrom(...ODD_KEYS), fc.string({ maxLength: 10 })), value: oddValue }),
  fc.record({ kind: fc.constant('copy' as const), pick: fc.nat(), from: fc.nat() }),
);

/** Applies `m` below the root (the document stays a mapping, so every problem has a key to name). */
function applyMutation(doc: Json, m: Mutation): void {
  const all = paths(doc).filter((p) => p.length > 0);
  const path = all[m.pick % all.length];
  if (path === undefined) return;
  const parent = at(doc, path.slice(0, -1));
  const key = path[path.length - 1];
  if (parent === null || typeof parent !== 'object' || key === undefined) return;
  switch (m.kind) {
    case 'set':
      put(parent, key, m.value);
      return;
    case 'delete':
      if (Array.isArray(parent) && typeof key === 'number') parent.splice(key, 1);
      else Reflect.deleteProperty(parent, key);
      return;
    case 'add': {
      // The root too: a top-level `__proto__` or `constructor` is a mistake an operator can write.
      const target = m.pick % (all.length + 1) === all.length ? doc : at(doc, path);
      if (Array.isArray(target)) target.push(m.value);
      else if (target !== null && typeof target === 'object') put(target, m.key, m.value);
      else put(parent, key, { [m.key]: m.value });
      return;
    }
    case 'copy':
      put(parent, key, structuredClone(at(doc, all[m.from % all.length] ?? []) ?? null));
  }
}

function jitgated(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => {
      done({ code, stdout, stderr });
    });
  });
}

describe('fuzz: check-config', () => {
  let dir = '';
  let example = '';
  let exampleDoc: Json;
  let baseline: Set<string>;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'jitgate-fuzz-config-'));
    example = await readFile(EXAMPLE, 'utf8');
    exampleDoc = parse(example) as Json;
    // The example names files under /etc and /var/lib that do not exist here: those problems are its baseline.
    const { problems } = await checkConfigText(example, { source: EXAMPLE, baseDir: join(ROOT, 'deploy') });
    assertWellFormed(problems, example);
    assert.ok(problems.every((p) => p.path !== '' && /_file|socket_group|file$/.test(p.path)), JSON.stringify(problems));
    baseline = new Set(problems.map(problemText));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  // Found by the random-YAML property (seed 2026): the alias cycle overflowed the stack in the
  // inline-secret scan, and the daemon exited 1 with "Maximum call stack size exceeded".
  it('regression: a recursive alias (`a: &a [*a]`) is a problem at its key, exit 78, not a stack overflow', async () => {
    const cases = [
      ['a: &a [*a]', 'a[0]'],
      ['listen: &l { socket: *l }', 'listen.socket'],
      ['resources: &r { db: { vault: *r } }', 'resources.db.vault'],
    ] as const;
    for (const [text, path] of cases) {
      const { config, problems } = await checkConfigText(text, { source: 'fuzz.yaml', baseDir: dir });
      assert.equal(config, undefined);
      assert.deepEqual(problems, [{ path, message: 'is an alias of a node that contains it (a recursive alias)' }]);
    }
    const file = join(dir, 'recursive.yaml');
    await writeFile(file, 'a: &a [*a]\n');
    const { code, stderr } = await jitgated(['check-config', file]);
    assert.equal(code, EX_CONFIG, stderr);
    assert.equal(stderr, `jitgated: invalid config ${file}: a[0]: is an alias of a node that contains it (a recursive alias)\n`);
  });

  // Found by the random-YAML property (seed 99): a top-level key naming an Object.prototype member
  // reached the section-schema table's prototype ("schema.safeParse is not a function", exit 1).
  it('regression: top-level `__proto__`, `constructor`, `toString` keys are unknown keys, not a TypeError', async () => {
    for (const key of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      for (const value of ['1', 'null', '{ listen: 1 }']) {
        const text = `${key}: ${value}\n`;
        const { config, problems } = await checkConfigText(text, { source: 'fuzz.yaml', baseDir: dir });
        assert.equal(config, undefined);
        const at = problems.find((p) => p.path === key);
        assert.match(at?.message ?? '', /^unknown key \(expected one of: listen, /, `${text}: ${JSON.stringify(problems)}`);
      }
    }
    const file = join(dir, 'proto.yaml');
    await writeFile(file, '__proto__: -5.4e-323\nconstructor: null\n');
    const { code, stderr } = await jitgated(['check-config', file]);
    assert.equal(code, EX_CONFIG, stderr);
    assert.match(stderr, new RegExp(`^jitgated: invalid config ${file}: __proto__: unknown key`, 'm'));
  });

  it('random YAML never throws: it is refused, every problem one clean line', async () => {
    await fc.assert(
      fc.asyncProperty(randomText, async (text) => {
        const { config, problems } = await checkConfigText(text, { source: 'fuzz.yaml', baseDir: dir });
        assert.equal(config, undefined, `accepted ${JSON.stringify(text)}`);
        assert.ok(problems.length > 0, `refused without a problem: ${JSON.stringify(text)}`);
        assertWellFormed(problems, text);
      }),
      fuzzOptions(300),
    );
  });

  it('a mutated example config never throws, and every problem the mutation adds names its key', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 4 }), async (mutations) => {
        const doc = structuredClone(exampleDoc);
        for (const m of mutations) applyMutation(doc, m);
        const text = stringify(doc);
        const { problems } = await checkConfigText(text, { source: EXAMPLE, baseDir: join(ROOT, 'deploy') });
        assertWellFormed(problems, text);
        const added = problems.filter((p) => !baseline.has(problemText(p)));
        for (const p of added) assert.notEqual(p.path, '', `a problem naming no key: ${p.message} from ${text.slice(0, 2000)}`);
      }),
      fuzzOptions(300),
    );
  });

  it('the real `jitgated check-config` exits 78 with one "invalid config FILE: …" line per problem, never a stack trace', async () => {
    const file = join(dir, 'fuzz.yaml');
    const input = fc.oneof(
      randomText,
      fc.array(mutation, { minLength: 1, maxLength: 3 }).map((mutations) => {
        const doc = structuredClone(exampleDoc);
        for (const m of mutations) applyMutation(doc, m);
        return stringify(doc);
      }),
    );
    await fc.assert(
      fc.asyncProperty(input, async (text) => {
        await writeFile(file, text);
        const { code, stdout, stderr } = await jitgated(['check-config', file]);
        assert.equal(code, EX_CONFIG, `exit ${String(code)} for ${JSON.stringify(text.slice(0, 300))}: ${stderr}`);
        assert.equal(stdout, '');
        const lines = stderr.trimEnd().split('\n');
        assert.ok(lines.length > 0);
        for (const line of lines) assert.ok(line.startsWith(`jitgated: invalid config ${file}: `), line);
        assert.doesNotMatch(stderr, /^\s+at /m);
      }),
      fuzzOptions(4),
    );
  });
});
