import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { IDP_CLIENT_SECRET, IDP_REDIRECT_URI } from '../daemon/web/web-client.js';
import type { DaemonProcess } from './daemon-process.js';
import type { TestIdp } from './idp.js';

/**
 * The `identity:` section for approvers who sign in through `idp`, also on the approval web page
 * (`http.listen` must be set too). Writes the web client's secret into `dir`. Context stays local
 * (no CI issuer); `localApprovers` keeps `--as NAME` approvals working beside the IdP.
 */
export async function webApproversIdentity(idp: TestIdp, dir: string, options: { readonly localApprovers?: boolean } = {}): Promise<string> {
  const secretFile = join(dir, 'client-secret');
  await writeFile(secretFile, `${IDP_CLIENT_SECRET}\n`, { mode: 0o600 });
  return `identity:
  local: { context: true, approvers: ${String(options.localApprovers ?? false)} }
  approvers:
    issuer: ${idp.issuer}
    audience: ${idp.clientId}
    groups_claim: groups
    web: { client_id: ${idp.clientId}, client_secret_file: ${secretFile}, redirect_uri: ${IDP_REDIRECT_URI} }`;
}

/** The web page's base URL, from the address the daemon logs when its HTTP listener is up. */
export async function httpBaseOf(daemon: DaemonProcess): Promise<string> {
  const [, address] = await daemon.proc.waitFor(/"http":"([^"]+)"/);
  return `http://${address ?? ''}`;
}
