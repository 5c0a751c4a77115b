import type * as grpc from '@grpc/grpc-js';
import { InvalidArgumentError } from '../../common/errors.js';

/**
 * What a handler receives when the request's bytes are not a valid protobuf message. grpc-js
 * answers a throwing deserializer with INTERNAL, which blames the daemon for the caller's bytes;
 * with this marker the handler's adapter answers INVALID_ARGUMENT instead.
 */
export class UndecodableRequest {
  constructor(readonly cause: unknown) {}
}

/** `definition` with every request deserializer returning an UndecodableRequest instead of throwing. */
export function tolerantDecoding(definition: grpc.ServiceDefinition): grpc.ServiceDefinition {
  const methods: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const [name, method] of Object.entries(definition)) {
    methods[name] = {
      ...method,
      requestDeserialize: (bytes: Buffer): unknown => {
        try {
          return method.requestDeserialize(bytes);
        } catch (cause) {
          return new UndecodableRequest(cause);
        }
      },
    };
  }
  return methods;
}

/** Refuses a request its bytes could not be decoded into. */
export function assertDecoded(request: unknown): void {
  if (request instanceof UndecodableRequest) throw new InvalidArgumentError('request', 'is not a valid protobuf message', { cause: request.cause });
}
