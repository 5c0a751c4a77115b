import { AccessDeniedError, JitgateClient, type Grant } from '../../src/client/index.js';
import type { ClaimOverrides } from './ci-issuer.js';
import type { CiDaemon } from './ci-daemon.js';

/** One request in flight through the SDK (real gRPC on the daemon's socket), with a fresh CI token. */
export interface InFlight {
  /** Resolves with the request id at the first update (pending or, when no approver is asked, approved). */
  readonly id: Promise<string>;
  /** Every progress state seen, in order. */
  readonly states: string[];
  /** The grant, or the AccessDeniedError / other error the request ended with. */
  readonly result: Promise<Grant | Error>;
}

/** Asks for `resource` with a GitHub-shaped token for acme/api whose claims `claims` overrides. */
export async function askWithToken(ci: CiDaemon, resource: string, claims: ClaimOverrides): Promise<InFlight> {
  const token = await ci.issuer.issue(ci.issuer.githubClaims('jitgate', claims));
  const client = new JitgateClient({ socket: ci.daemon.socket, idToken: token });
  const states: string[] = [];
  let resolveId: (id: string) => void = () => undefined;
  let rejectId: (err: Error) => void = () => undefined;
  const id = new Promise<string>((res, rej) => {
    resolveId = res;
    rejectId = rej;
  });
  const result = client
    .request({
      resource,
      reason: 'deploy',
      onUpdate: (update) => {
        states.push(update.state);
        resolveId(update.request.id);
      },
    })
    .then(
      (grant) => grant,
      (err: unknown) => (err instanceof Error ? err : new Error(String(err))),
    );
  void result.then((r) => {
    if (r instanceof AccessDeniedError) resolveId(r.requestId);
    else if (r instanceof Error) rejectId(r);
  });
  // The stream keeps the channel open; the client closes once the request has ended.
  void result.then(async (r) => {
    if (!(r instanceof Error)) await r.ended;
    client.close();
  });
  return { id, states, result };
}

/** An approver client (local approvers: the name is the identity). */
export function approverClient(ci: CiDaemon, name: string): JitgateClient {
  return new JitgateClient({ socket: ci.daemon.socket, approver: name });
}
