/** The runner's command syntax as the action writes it: masks, annotations, file-command heredocs. */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { appendFileCommand, errorCommand, escapeData, fileCommandEntry, maskCommands } from '../../actions/request-access/src/lib/workflow-commands.js';
import { checkIdTokenPermission, readInputs } from '../../actions/request-access/src/lib/inputs.js';
import { parseFileCommands } from './github-job.js';

describe('workflow commands', () => {
  it('escapes command data so a command stays on one line', () => {
    assert.equal(escapeData('50%\r\nnext'), '50%25%0D%0Anext');
    assert.equal(errorCommand('a\nb'), '::error::a%0Ab');
  });

  it('masks a single-line value once, a multi-line value whole and line by line', () => {
    assert.deepEqual(maskCommands('s3cr3t'), ['::add-mask::s3cr3t']);
    const pem = '-----BEGIN KEY-----\nAAA%0A\n-----END KEY-----\n';
    const lines = maskCommands(pem);
    assert.equal(lines[0], `::add-mask::${escapeData(pem)}`);
    assert.deepEqual(lines.slice(1), ['::add-mask::-----BEGIN KEY-----', '::add-mask::AAA%250A', '::add-mask::-----END KEY-----']);
    for (const line of lines) assert.equal(line.includes('\n'), false);
  });

  it('writes heredoc entries with a fresh random delimiter that a value cannot close early', async () => {
    const a = fileCommandEntry('X', 'v');
    const b = fileCommandEntry('X', 'v');
    assert.notEqual(a, b);
    assert.match(a, /^X<<ghadelimiter_[0-9a-f-]{36}\nv\nghadelimiter_[0-9a-f-]{36}\n$/);
    assert.throws(() => fileCommandEntry('BAD NAME', 'v'), /not a valid variable name/);
    const dir = await mkdtemp(join(tmpdir(), 'jitgate-wfc-'));
    try {
      const file = join(dir, 'env');
      await writeFile(file, '');
      const tricky = 'line1\nghadelimiter_x\nEVIL=1\nline4';
      appendFileCommand({ GITHUB_ENV: file }, 'GITHUB_ENV', { PEM: tricky, USER: 'u' });
      assert.deepEqual(parseFileCommands(await readFile(file, 'utf8')), { PEM: tricky, USER: 'u' });
      assert.throws(() => {
        appendFileCommand({}, 'GITHUB_ENV', { A: 'b' });
      }, /GITHUB_ENV: not set/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('reads INPUT_* as the runner passes them, with the action.yml defaults', () => {
    assert.deepEqual(readInputs({ INPUT_RESOURCE: ' prod-db ', INPUT_REASON: '', INPUT_TTL: '60s' }), {
      resource: 'prod-db',
      ttl: '60s',
      socket: '/run/jitgated/jitgated.sock',
      audience: 'jitgate',
    });
    assert.throws(() => readInputs({}), /resource: input required/);
    assert.throws(() => readInputs({ INPUT_RESOURCE: 'x', INPUT_TTL: 'later' }), /ttl: invalid duration/);
    assert.throws(() => {
      checkIdTokenPermission({ ACTIONS_ID_TOKEN_REQUEST_URL: 'http://x' });
    }, /permissions: id-token: write.*ACTIONS_ID_TOKEN_REQUEST_TOKEN is not set/);
    assert.doesNotThrow(() => {
      checkIdTokenPermission({ ACTIONS_ID_TOKEN_REQUEST_URL: 'http://x', ACTIONS_ID_TOKEN_REQUEST_TOKEN: 't' });
    });
  });
});
