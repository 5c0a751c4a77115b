import assert from 'node:assert/strict';
import { chmod, chown, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ConfigError } from '../../../src/common/errors.js';
import { MAX_SECRET_FILE_BYTES, readSecretFile } from '../../../src/common/secret-file.js';

const KEY = 'notifiers[0].slack.token_file';
const SECRET = 'xoxb-TOPSECRET-0123';

describe('readSecretFile', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'jitgate-secret-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function write(name: string, content: string | Buffer, mode = 0o600): Promise<string> {
    const path = join(dir, name);
    await writeFile(path, content, { mode });
    await chmod(path, mode);
    return path;
  }

  async function refuses(path: string, message: RegExp): Promise<void> {
    await assert.rejects(readSecretFile(path, KEY), (err: unknown) => {
      assert.ok(err instanceof ConfigError, String(err));
      assert.equal(err.path, KEY);
      assert.match(err.message, message);
      assert.ok(err.message.startsWith(`${KEY}: `), err.message);
      assert.ok(!err.message.includes(SECRET), 'the secret is never in a message');
      return true;
    });
  }

  it('reads a 0600 or 0400 file, dropping one trailing newline', async () => {
    assert.equal(await readSecretFile(await write('a', `${SECRET}\n`), KEY), SECRET);
    assert.equal(await readSecretFile(await write('b', `${SECRET}\r\n`, 0o400), KEY), SECRET);
    assert.equal(await readSecretFile(await write('c', `${SECRET}\n\n`), KEY), `${SECRET}\n`);
  });

  it('refuses a file readable or writable by group or others, naming the key and the mode', async () => {
    const loose = await write('loose', SECRET, 0o644);
    await refuses(loose, new RegExp(`^${KEY.replace(/[[\].]/g, '\\$&')}: ${loose} is mode 0644; chmod 600 it$`));
    await refuses(await write('group', SECRET, 0o640), /is mode 0640; chmod 600 it/);
    await refuses(await write('group-write', SECRET, 0o620), /is mode 0620/);
    await refuses(await write('other-write', SECRET, 0o602), /is mode 0602/);
  });

  it('refuses a file owned by another user (not root)', async () => {
    const path = await write('owned', SECRET);
    if (process.getuid?.() === 0) {
      await chown(path, 4242, 4242);
      await refuses(path, /is owned by uid 4242, neither jitgated's user \(uid 0\) nor root; chown it/);
    } else {
      // Without root no file of another user can be made; our own file is accepted.
      assert.equal(await readSecretFile(path, KEY), SECRET);
    }
  });

  it('refuses missing, empty, blank, oversized and non-regular files', async () => {
    await refuses(join(dir, 'nope'), /cannot read the secret file ".*nope" \(ENOENT\)$/);
    await refuses(await write('empty', ''), /is empty/);
    await refuses(await write('newline', '\n'), /is empty/);
    await refuses(await write('blank', ' \n \n'), /is empty/);
    await refuses(await write('big', Buffer.alloc(MAX_SECRET_FILE_BYTES + 1, 'a')), /is larger than 64 KiB/);
    assert.equal((await readSecretFile(await write('fits', Buffer.alloc(MAX_SECRET_FILE_BYTES, 'a')), KEY)).length, MAX_SECRET_FILE_BYTES);
    const sub = join(dir, 'sub');
    await mkdir(sub, { mode: 0o700 });
    await refuses(sub, /is not a regular file/);
  });
});
