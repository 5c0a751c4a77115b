import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { AccessDeniedError } from '../../src/client/access-denied-error.js';
import { EXIT, RUN_EXIT_CODES } from '../../src/cli/exit-codes.js';
import { fromGrpcError } from '../../src/client/grpc-errors.js';
import { runExitCode } from '../../src/cli/run-command.js';
import {
  ConfigError,
  ConflictError,
  IdentityError,
  InvalidArgumentError,
  JitgateError,
  NotFoundError,
  PermissionDeniedError,
  ResourceExhaustedError,
  UnavailableError,
} from '../../src/common/errors.js';
import { toGrpcStatus } from '../../src/daemon/grpc/status.js';
import { ERROR_CODE_METADATA_KEY, ERROR_CODES, isErrorCode, type ErrorCode } from '../../src/model/error-codes.js';

interface Row {
  readonly code: string;
  readonly meaning: string;
  readonly status: string;
  readonly exit: number;
}

/** The rows of the README's "Error codes" table. */
function readmeRows(): Row[] {
  const readme = readFileSync(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8');
  const start = readme.indexOf('\n## Error codes\n');
  assert.ok(start >= 0, 'README has an "Error codes" section');
  const section = readme.slice(start + 1, readme.indexOf('\n## ', start + 1));
  return section
    .split('\n')
    .filter((line) => /^\| `[A-Z_]+` \|/.test(line))
    .map((line) => {
      const cells = line.split(' | ').map((c) => c.replace(/^\| |\s*\|$/g, ''));
      assert.equal(cells.length, 4, line);
      const [code = '', meaning = '', status = '', exit = ''] = cells;
      return { code: code.replaceAll('`', ''), meaning, status, exit: Number(exit) };
    });
}

/** `jitgate run`'s exit codes as they were decided before codes existed: by the error's class alone. */
function exitByClass(err: unknown): number {
  if (err instanceof AccessDeniedError) return err.outcome === 'expired' ? EXIT.EXPIRED : EXIT.DENIED;
  if (err instanceof IdentityError || err instanceof PermissionDeniedError) return EXIT.DENIED;
  if (err instanceof InvalidArgumentError) return EXIT.USAGE;
  return EXIT.UNAVAILABLE;
}

/** The error the SDK raises for a row: from the stream's final update, or from the status and its trailer. */
function sdkError(row: Row): JitgateError {
  const code = row.code as ErrorCode;
  if (row.status === 'OK, ends DENIED') return new AccessDeniedError('denied', 'r', 'req-1', code);
  if (row.status === 'OK, ends EXPIRED') return new AccessDeniedError('expired', 'r', 'req-1', code);
  const status = grpc.status[row.status as keyof typeof grpc.status];
  assert.equal(typeof status, 'number', `${row.code}: "${row.status}" is a gRPC status`);
  const metadata = new grpc.Metadata();
  metadata.set(ERROR_CODE_METADATA_KEY, code);
  return fromGrpcError(Object.assign(new Error('x'), { code: status, details: 'field: x', metadata }));
}

const GENERIC: Partial<Record<ErrorCode, JitgateError>> = {
  ERR_INVALID_ARGUMENT: new InvalidArgumentError('f', 'x'),
  ERR_CONFIG: new ConfigError('k', 'x'),
  ERR_NOT_FOUND: new NotFoundError('x'),
  ERR_IDENTITY: new IdentityError('x'),
  ERR_PERMISSION_DENIED: new PermissionDeniedError('x'),
  ERR_CONFLICT: new ConflictError('x'),
  ERR_RESOURCE_EXHAUSTED: new ResourceExhaustedError('x'),
  ERR_UNAVAILABLE: new UnavailableError('x'),
  ERR_INTERNAL: new JitgateError('x'),
};

describe('the error-code catalogue and the README', () => {
  const rows = readmeRows();

  it('lists every catalogue code exactly once, with the catalogue’s meaning, and nothing else', () => {
    assert.deepEqual(
      rows.map((r) => r.code),
      Object.keys(ERROR_CODES),
    );
    for (const row of rows) {
      assert.ok(isErrorCode(row.code));
      assert.equal(row.meaning, ERROR_CODES[row.code], row.code);
    }
  });

  it('maps each code to exactly one `jitgate run` exit code, the one the README names', () => {
    const exits = new Set<number>(Object.values(EXIT));
    assert.deepEqual(Object.keys(RUN_EXIT_CODES).sort(), Object.keys(ERROR_CODES).sort());
    for (const row of rows) {
      const exit = RUN_EXIT_CODES[row.code as ErrorCode];
      assert.ok(Number.isInteger(exit) && exits.has(exit), row.code);
      assert.equal(row.exit, exit, row.code);
    }
  });

  it('gives each generic code the gRPC status its error class is sent with', () => {
    for (const [code, err] of Object.entries(GENERIC)) {
      const row = rows.find((r) => r.code === code);
      assert.equal(row?.status, grpc.status[toGrpcStatus(err).code], code);
    }
    assert.equal(rows.find((r) => r.code === 'ERR_ACCESS_DENIED')?.status, 'OK, ends DENIED');
  });

  it('keeps every exit code what the error’s class gave before codes existed', () => {
    for (const row of rows) {
      const err = sdkError(row);
      assert.equal(err.code, row.code);
      assert.equal(runExitCode(err), exitByClass(err), `${row.code} (${row.status})`);
    }
    // And without any code (an older daemon): the class's generic code decides. (A ConfigError
    // reaches the CLI only over the wire, as an InvalidArgumentError: covered by its row above.)
    const { ERR_CONFIG: _config, ...local } = GENERIC;
    for (const err of [new AccessDeniedError('denied', 'r', 'i'), new AccessDeniedError('expired', 'r', 'i'), ...Object.values(local)]) {
      assert.equal(runExitCode(err), exitByClass(err), err.code);
    }
    assert.equal(runExitCode(new TypeError('not ours')), EXIT.UNAVAILABLE);
  });
});
