import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PermissionDeniedError } from '../../src/common/errors.js';
import { silentLogger } from '../../src/common/logger.js';
import { parseConfig } from '../../src/daemon/config/load-config.js';
import { createIdpApproverResolver } from '../../src/daemon/identity/idp-approver-resolver.js';
import { accessInput, gateConfigYaml, startGateFixture, StreamProbe, type GateFixture, type VaultEnv } from '../support/gate-fixture.js';
import { startIdp, type TestIdp } from '../support/idp.js';
import { startVaultWithDatabase } from '../../tools/vault-compat/src/start.js';

// The CI actor of gate-fixture's requests is `alice`. At the IdP she is u-alice, named by her
// verified address: nothing in her IdP name says "alice the GitHub user", except the claim the IdP
// guarantees, `github_login`.
const POLICIES = `
  - name: db-needs-sre
    match: { resource: demo-db, repository: acme/api }
    require: { approvals: 1, from: ["group:sre"], expires_after: 10m }
  - name: everything-else
    decision: deny`;

describe('security 2: an approver linked to the run\'s CI actor cannot approve it', () => {
  let env: VaultEnv;
  let idp: TestIdp;
  let f: GateFixture;
  const closers: { close(): void }[] = [];

  before(async () => {
    env = await startVaultWithDatabase();
    idp = await startIdp({
      users: [
        { sub: 'u-alice', email: 'a.smith@corp.test', groups: ['sre'], extra: { github_login: 'alice' } },
        { sub: 'u-carol', email: 'c.jones@corp.test', groups: ['sre'], extra: { github_login: 'carol' } },
      ],
    });
    f = await startGateFixture({ vaultEnv: env, policies: POLICIES });
  });
  after(async () => {
    for (const c of closers) c.close();
    await f.close();
    await idp.close();
    await env.stop();
  });

  /** The resolver as the daemon builds it: from `identity.approvers` of a parsed config file. */
  function resolverFromConfig() {
    const yaml = `${gateConfigYaml('/tmp/jitgate-sec02', 'http://127.0.0.1:1', 'role', POLICIES)}
identity:
  local: { context: true }
  approvers: { issuer: "${idp.issuer}", audience: ${idp.clientId}, actor_claims: [github_login] }
`.replace('identity: { local: { context: true, approvers: true } }\n', '');
    const config = parseConfig(yaml, { source: 'test.yaml', baseDir: '/tmp' });
    const approvers = config.identity.approvers;
    assert.ok(approvers);
    assert.deepEqual(approvers.actorClaims, ['github_login']);
    const r = createIdpApproverResolver({ config: approvers, groups: {}, clock: f.clock, logger: silentLogger() });
    closers.push(r);
    return r;
  }

  it('alice, signed in as u-alice (github_login: alice), is refused SELF_APPROVAL; carol approves', async () => {
    const resolver = resolverFromConfig();
    const alice = await resolver.resolve({ authorization: `Bearer ${await idp.login('u-alice')}` });
    const carol = await resolver.resolve({ authorization: `Bearer ${await idp.login('u-carol')}` });
    assert.equal(alice.name, 'a.smith@corp.test', 'her IdP name does not give her away');

    const probe = new StreamProbe(f.gate, accessInput());
    const { request } = await probe.next('pending');
    assert.equal(request.context.actor, 'alice');
    await assert.rejects(f.gate.approve(request.id, alice), (err: unknown) => {
      assert.ok(err instanceof PermissionDeniedError, String(err));
      assert.equal(err.code, 'SELF_APPROVAL');
      return true;
    });
    assert.equal((await f.gate.getRequest(request.id)).status, 'pending');
    await f.gate.approve(request.id, carol);
    const granted = await probe.next('granted');
    await f.gate.release(granted.grant.id, granted.grant.releaseToken);
    await probe.done;
  });
});
