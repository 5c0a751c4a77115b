import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, readFile, rm, stat, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { npmScript, output, ROOT, run, writeTree } from './support.js';

/**
 * The SDK as a consumer sees it: `npm run build` (into a temp dir, so the checkout's dist/ is left
 * alone), a package laid out as npm would install it, and a strict NodeNext project that imports
 * `jitgate` by name. The good file must type-check; the bad one must fail with exactly the
 * deliberate errors, which it could not if the declarations were missing or `any`.
 */

const CONSUMER_TSCONFIG = {
  compilerOptions: {
    target: 'ES2023',
    lib: ['ES2023', 'ESNext.Disposable'],
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    strict: true,
    noUncheckedIndexedAccess: true,
    exactOptionalPropertyTypes: true,
    verbatimModuleSyntax: true,
    types: ['node'],
    noEmit: true,
    // Checks jitgate's .d.ts files too (they must be valid on their own); third-party ones as well.
    skipLibCheck: false,
  },
};

const GOOD = `import { requestAccess, JitgateClient, AccessDeniedError, type Grant, type RequestAccessOptions, type RequestInfo } from 'jitgate';

export async function migrate(): Promise<string> {
  const options: RequestAccessOptions = { resource: 'prod-db', reason: 'migration', ttl: '60s', socket: '/run/jitgated/jitgated.sock' };
  try {
    await using grant: Grant = await requestAccess({ ...options, onUpdate: (u) => console.log(u.state, u.request.id) });
    const password: string | undefined = grant.credentials['PGPASSWORD'];
    const until: Date = grant.expiresAt;
    const end = await Promise.race([grant.ended, Promise.resolve(undefined)]);
    return \`\${grant.id} \${until.toISOString()} \${String(password?.length)} \${end?.outcome ?? 'held'}\`;
  } catch (err) {
    if (err instanceof AccessDeniedError) {
      const outcome: 'denied' | 'expired' = err.outcome;
      const code: string = err.code;
      return \`\${outcome}: \${err.reason} (\${err.requestId}, \${code})\`;
    }
    throw err;
  }
}

export async function pending(client: JitgateClient = new JitgateClient({ socket: '/tmp/jitgated.sock' })): Promise<RequestInfo[]> {
  try {
    return await client.listRequests({ status: ['pending', 'approved'] });
  } finally {
    client.close();
  }
}
`;

/** Each deliberate mistake, with the line it is on and the error tsc must report there. */
const BAD_LINES: readonly { readonly code: string; readonly text: string }[] = [
  { code: 'TS2322', text: `  await requestAccess({ resource: 42 });` },
  { code: 'TS2322', text: `  const when: number = (await requestAccess({ resource: 'db' })).expiresAt;` },
  { code: 'TS2339', text: `  (await requestAccess({ resource: 'db' })).revoke();` },
  { code: 'TS2345', text: `  throw new AccessDeniedError('maybe', 'reason', 'req-1');` },
  { code: 'TS2353', text: `  await requestAccess({ resource: 'db', approver: 'alice' });` },
];
const BAD_HEADER = [`import { requestAccess, AccessDeniedError } from 'jitgate';`, '', 'export async function wrong(): Promise<void> {'];
const BAD = [...BAD_HEADER, ...BAD_LINES.map((l) => l.text), '}', ''].join('\n');

/** `file(line,col): error TSxxxx` lines of tsc's plain output, as `file:line TSxxxx`. */
function tscErrors(stdout: string): string[] {
  return [...stdout.matchAll(/^(\S+?)\((\d+),\d+\): error (TS\d+):/gm)].map((m) => `${m[1] ?? ''}:${m[2] ?? ''} ${m[3] ?? ''}`);
}

describe('architecture: the SDK type-checks in a consumer project', () => {
  let dir: string;
  let pkg: string;
  let consumer: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'jitgate-consumer-'));
    pkg = join(dir, 'jitgate');
    consumer = join(dir, 'consumer');
    // `npm run build -- --outDir DIR`: the real build script and config, only the output moved.
    const build = await run('sh', ['-c', `${npmScript('build')} "$@"`, 'sh', '--outDir', join(pkg, 'dist')]);
    assert.equal(build.code, 0, output(build));
    assert.equal(build.stdout + build.stderr, '', 'npm run build prints nothing when clean');
    await mkdir(pkg, { recursive: true });
    await copyFile(join(ROOT, 'package.json'), join(pkg, 'package.json'));
    // What an install would bring along: the proto files (shipped) and the package's dependencies.
    await symlink(join(ROOT, 'proto'), join(pkg, 'proto'), 'dir');
    await symlink(join(ROOT, 'node_modules'), join(pkg, 'node_modules'), 'dir');
    await writeTree(consumer, {
      'package.json': JSON.stringify({ name: 'consumer', private: true, type: 'module' }),
      'tsconfig.base.json': JSON.stringify(CONSUMER_TSCONFIG),
      'tsconfig.good.json': JSON.stringify({ extends: './tsconfig.base.json', files: ['good.ts'] }),
      'tsconfig.bad.json': JSON.stringify({ extends: './tsconfig.base.json', files: ['bad.ts'] }),
      'good.ts': GOOD,
      'bad.ts': BAD,
    });
    await mkdir(join(consumer, 'node_modules'));
    await symlink(pkg, join(consumer, 'node_modules', 'jitgate'), 'dir');
    // A consumer installs @types/node itself; the SDK's types mention Buffer and AbortSignal.
    await symlink(join(ROOT, 'node_modules', '@types'), join(consumer, 'node_modules', '@types'), 'dir');
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('package.json points "types" and exports["."] at files the build writes', async () => {
    const manifest = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as {
      types?: string;
      exports?: Record<string, { types?: string; import?: string } | string>;
      files?: string[];
    };
    const entry = manifest.exports?.['.'];
    assert.ok(typeof entry === 'object', 'exports["."] has conditions');
    assert.equal(entry.types, manifest.types);
    for (const file of [entry.types, entry.import]) {
      assert.ok(file !== undefined);
      assert.ok((await stat(join(pkg, file))).isFile(), `${file} is built`);
    }
    for (const shipped of ['bin/', 'dist/src/', 'proto/']) assert.ok(manifest.files?.includes(shipped), `files ships ${shipped}`);
  });

  it('the good file type-checks against the declarations', async () => {
    const result = await run('tsc', ['-p', 'tsconfig.good.json', '--pretty', 'false'], { cwd: consumer });
    assert.equal(result.code, 0, output(result));
  });

  it('the bad file fails with exactly its deliberate type errors', async () => {
    const result = await run('tsc', ['-p', 'tsconfig.bad.json', '--pretty', 'false'], { cwd: consumer });
    assert.notEqual(result.code, 0, output(result));
    const expected = BAD_LINES.map((l, i) => `bad.ts:${BAD_HEADER.length + i + 1} ${l.code}`);
    assert.deepEqual(tscErrors(result.stdout), expected, output(result));
  });

  it("the package imports by name at run time (exports' import condition, proto files found)", async () => {
    const script = [
      "import { requestAccess, JitgateClient, AccessDeniedError } from 'jitgate';",
      "const client = new JitgateClient({ socket: '/nonexistent/jitgated.sock' });",
      'client.close();',
      'console.log(typeof requestAccess, typeof JitgateClient, new AccessDeniedError("denied", "no", "req-1").code);',
    ].join('\n');
    const result = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: consumer });
    assert.equal(result.code, 0, output(result));
    assert.equal(result.stdout.trim(), 'function function ERR_ACCESS_DENIED');
  });
});
