import type * as grpc from '@grpc/grpc-js';
import { ERROR_CODE_METADATA_KEY, isErrorCode, type ErrorCode } from '../model/error-codes.js';

/** The daemon's stable code from a status's trailing metadata; undefined when absent or unknown (an older or newer daemon). */
export function errorCodeFromMetadata(metadata: grpc.Metadata | undefined): ErrorCode | undefined {
  const value = metadata?.get(ERROR_CODE_METADATA_KEY)[0];
  return isErrorCode(value) ? value : undefined;
}
