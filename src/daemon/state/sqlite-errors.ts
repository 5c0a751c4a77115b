import Database from 'better-sqlite3';
import { ConflictError, InvalidArgumentError, JitgateError, NotFoundError, UnavailableError, errorMessage } from '../../common/errors.js';

export function checkLimit(limit: number): number {
  if (!Number.isSafeInteger(limit) || limit < 0) {
    throw new InvalidArgumentError('limit', 'must be a non-negative integer');
  }
  return limit;
}

/**
 * Constraint violations are the caller's problem and get precise classes; everything else
 * (I/O, locks, a closed database) is an unavailable store. Messages carry SQLite's text only:
 * it names constraints and columns, never bound values.
 */
export function mapError(operation: string, err: unknown): Error {
  if (err instanceof JitgateError) return err;
  if (err instanceof Database.SqliteError) {
    switch (err.code) {
      case 'SQLITE_CONSTRAINT_PRIMARYKEY':
      case 'SQLITE_CONSTRAINT_UNIQUE':
        return new ConflictError(`state store: ${operation}: already exists`, { cause: err });
      case 'SQLITE_CONSTRAINT_FOREIGNKEY':
        return new NotFoundError(`state store: ${operation}: request not found`, { cause: err });
      default:
        break;
    }
  }
  return new UnavailableError(`state store: ${operation} failed: ${errorMessage(err)}`, { cause: err });
}
