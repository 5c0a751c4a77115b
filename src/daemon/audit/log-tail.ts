import { open } from 'node:fs/promises';
import { MAX_RECORD_BYTES, recordHash } from '../../common/audit-chain.js';
import { UnavailableError, errorMessage } from '../../common/errors.js';

export interface ChainTail {
  readonly seq: number;
  readonly hash: string;
}

const HEX64 = /^[0-9a-f]{64}$/;

/**
 * Where an existing log's chain ends, from its last line only (start-up must not scan a large log).
 * `null` when the file is absent or empty. A damaged tail throws UnavailableError naming the file:
 * continuing after it would hide the damage behind fresh, valid records.
 */
export async function readChainTail(file: string): Promise<ChainTail | null> {
  const damaged = (why: string, cause?: unknown): UnavailableError =>
    new UnavailableError(
      `audit log ${file} has a damaged tail (${why}); refusing to append — run \`jitgate audit verify ${file}\``,
      cause === undefined ? undefined : { cause },
    );
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new UnavailableError(`cannot open audit log ${file}: ${errorMessage(err)}`, { cause: err });
  }
  try {
    const { size } = await handle.stat();
    if (size === 0) return null;
    // The writer never writes a line longer than MAX_RECORD_BYTES, so the last line fits in this window.
    const window = Math.min(size, MAX_RECORD_BYTES + 2);
    const buf = Buffer.alloc(window);
    const { bytesRead } = await handle.read(buf, 0, window, size - window);
    const tail = buf.subarray(0, bytesRead);
    if (tail[tail.length - 1] !== 0x0a) throw damaged('the last line has no newline');
    const start = tail.lastIndexOf(0x0a, tail.length - 2) + 1;
    if (start === 0 && window < size) throw damaged('the last line is too long');
    let record: unknown;
    try {
      record = JSON.parse(tail.subarray(start, tail.length - 1).toString('utf8'));
    } catch (err) {
      throw damaged('the last line is not valid JSON', err);
    }
    if (typeof record !== 'object' || record === null || Array.isArray(record)) throw damaged('the last line is not a record');
    const fields = record as Record<string, unknown>;
    const { seq, hash } = fields;
    if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 1) throw damaged('the last record has no valid seq');
    if (typeof hash !== 'string' || !HEX64.test(hash)) throw damaged('the last record has no valid hash');
    let computed: string;
    try {
      computed = recordHash(fields);
    } catch (err) {
      throw damaged('the last record cannot be hashed', err);
    }
    if (computed !== hash) throw damaged('the last record’s hash does not match its content');
    return { seq, hash };
  } catch (err) {
    if (err instanceof UnavailableError) throw err;
    throw new UnavailableError(`cannot read audit log ${file}: ${errorMessage(err)}`, { cause: err });
  } finally {
    await handle.close();
  }
}
