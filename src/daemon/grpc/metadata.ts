import type * as grpc from '@grpc/grpc-js';
import { ResourceExhaustedError } from '../../common/errors.js';

/** HTTP/2 (RFC 7541) counts 32 bytes of overhead per header; so do we, to bound what a caller can send. */
const PER_ENTRY_OVERHEAD = 32;

export function metadataBytes(metadata: grpc.Metadata): number {
  let total = 0;
  for (const [key, values] of Object.entries(metadata.toJSON())) {
    for (const value of values) {
      total += Buffer.byteLength(key) + (typeof value === 'string' ? Buffer.byteLength(value) : value.length) + PER_ENTRY_OVERHEAD;
    }
  }
  return total;
}

/** grpc-js servers do not enforce a metadata size limit themselves, so every handler checks here first. */
export function checkMetadataSize(metadata: grpc.Metadata, maxBytes: number): void {
  const size = metadataBytes(metadata);
  if (size > maxBytes) throw new ResourceExhaustedError(`metadata: larger than ${maxBytes} bytes`);
}

/** Text metadata as the `ApproverResolver` wants it: lower-cased names, first value of each, binary entries dropped. */
export function metadataRecord(metadata: grpc.Metadata): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, values] of Object.entries(metadata.toJSON())) {
    const first = values[0];
    if (typeof first === 'string' && !key.endsWith('-bin')) out[key.toLowerCase()] = first;
  }
  return out;
}
