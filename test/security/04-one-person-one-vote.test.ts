import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../../src/common/logger.js';
import { validateNotifiersConfig } from '../../src/daemon/config/notifier-settings.js';
import type { ApproverIdpConfig } from '../../src/daemon/config/types.js';
import { createIdpApproverResolver } from '../../src/daemon/identity/idp-approver-resolver.js';
import { channelApprover } from '../../src/daemon/notify/approver-identity.js';
import type { ApproverIdentity } from '../../src/model/context.js';
import { accessInput, startGateFixture, StreamProbe, type GateFixture, type VaultEnv } from '../support/gate-fixture.js';
import { startIdp, type TestIdp } from '../support/idp.js';
import { startVaultWithDatabase } from '../../tools/vault-compat/src/start.js';

const TWO_OF_SRE = `
  - name: db-needs-two
    match: { resource: demo-db, repository: acme/api }
    require: { approvals: 2, from: ["group:sre"], expires_after: 10m }
  - name: everything-else
    decision: deny`;

const slack = { token_file: '/s/token', signing_secret_file: '/s/signing', channel: '#deploys', team_id: 'T0ACME' };

describe('security 4: one person, one vote, whichever channels they use', () => {
  let env: VaultEnv;
  let idp: TestIdp;
  let f: GateFixture;
  let resolver: ReturnType<typeof createIdpApproverResolver>;
  // Static membership, as `groups:` in the config: IdP users by sub, Slack-linked ones by their mapping.
  const staticGroups = { sre: ['u-erin', 'u-mallory', 'erin@corp.test', 'dave'] };
  const dave: ApproverIdentity = { subject: 'dave', name: 'dave', groups: ['sre'], aliases: ['dave'], trust: 'local' };

  before(async () => {
    env = await startVaultWithDatabase();
    idp = await startIdp({
      users: [
        { sub: 'u-erin', email: 'erin@corp.test', groups: ['sre'] },
        // Mallory calls herself "dave" in her own profile.
        { sub: 'u-mallory', preferredUsername: 'dave', email: 'mallory@corp.test', groups: ['sre'] },
      ],
    });
    f = await startGateFixture({ vaultEnv: env, policies: TWO_OF_SRE });
    const config: ApproverIdpConfig = { issuer: idp.issuer, audience: idp.clientId, groupsClaim: 'groups' };
    resolver = createIdpApproverResolver({ config, groups: staticGroups, clock: f.clock, logger: silentLogger() });
  });
  after(async () => {
    resolver.close();
    await f.close();
    await idp.close();
    await env.stop();
  });

  const signIn = async (sub: string): Promise<ApproverIdentity> => resolver.resolve({ authorization: `Bearer ${await idp.login(sub)}` });

  it('Slack users link to IdP identities by sub: or by verified e-mail (config accepts both)', () => {
    const [parsed] = validateNotifiersConfig([{ slack: { ...slack, users: { U0ERIN: 'sub:u-erin', U0ERIN2: 'erin@corp.test', U0BOB: 'bob' } } }]);
    assert.ok(parsed?.kind === 'slack');
    assert.deepEqual({ ...parsed.users }, { U0ERIN: 'sub:u-erin', U0ERIN2: 'erin@corp.test', U0BOB: 'bob' });
    assert.throws(() => validateNotifiersConfig([{ slack: { ...slack, users: { U0X: 'not a name' } } }]), /sub:<sub>/);
  });

  it('erin approving in Slack (linked by sub or by e-mail) and through the IdP counts once', async () => {
    for (const mapped of ['sub:u-erin', 'erin@corp.test']) {
      const probe = new StreamProbe(f.gate, accessInput());
      const { request } = await probe.next('pending');
      await f.gate.approve(request.id, channelApprover(mapped, staticGroups, 'slack', 'U0ERIN'));
      const view = await f.gate.approve(request.id, await signIn('u-erin'));
      assert.equal(view.status, 'pending', `${mapped}: the same person twice is one approval`);
      assert.equal(view.approvals.length, 1);
      // A second person completes the quorum.
      await f.gate.approve(request.id, dave);
      const granted = await probe.next('granted');
      await f.gate.release(granted.grant.id, granted.grant.releaseToken);
      await probe.done;
    }
  });

  it('a self-chosen alias does not swallow the real person\'s vote: mallory ("dave") and dave count twice', async () => {
    const probe = new StreamProbe(f.gate, accessInput());
    const { request } = await probe.next('pending');
    const mallory = await signIn('u-mallory');
    assert.ok(mallory.aliases.includes('dave'), 'the alias is really there');
    await f.gate.approve(request.id, mallory);
    const view = await f.gate.approve(request.id, dave);
    assert.equal(view.approvals.length, 2, 'dave counts');
    const granted = await probe.next('granted');
    await f.gate.release(granted.grant.id, granted.grant.releaseToken);
    await probe.done;
  });
});
