import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../../src/common/errors.js';
import { parseConfig } from '../../../src/daemon/config/load-config.js';

const BASE = `
listen: { socket: /tmp/j.sock }
state: { sqlite: /tmp/j.db }
audit: { file: /tmp/j.jsonl }
vault: { address: http://127.0.0.1:8200, auth: { token_file: /tmp/t } }
resources:
  db: { vault: { policies: [p] }, env: { VAULT_TOKEN: token }, ttl: 60s }
http: { listen: "127.0.0.1:8081", public_url: "https://jit.example" }
`;

function withApprovers(web: string): string {
  return `${BASE}identity:
  approvers:
    issuer: https://idp.example
    audience: jitgate
${web}`;
}

describe('config: identity.approvers.web', () => {
  it('parses the client, resolving the secret file against the config directory, with default scopes', () => {
    const config = parseConfig(withApprovers('    web: { client_id: jitgate, client_secret_file: secrets/web }\n'), { source: 'c.yaml', baseDir: '/etc/jitgated' });
    assert.deepEqual(config.identity.approvers?.web, {
      clientId: 'jitgate',
      clientSecretFile: '/etc/jitgated/secrets/web',
      scopes: ['openid', 'profile', 'email', 'groups'],
      recheckGroups: true,
    });
  });

  it('turns the group re-check at decision time off only when told to', () => {
    const config = parseConfig(withApprovers('    web: { client_id: jitgate, client_secret_file: s, recheck_groups: false }\n'), { source: 'c.yaml', baseDir: '/' });
    assert.equal(config.identity.approvers?.web?.recheckGroups, false);
    assert.throws(
      () => parseConfig(withApprovers('    web: { client_id: jitgate, client_secret_file: s, recheck_groups: "no" }\n'), { source: 'c.yaml', baseDir: '/' }),
      (err: unknown) => err instanceof ConfigError && /identity\.approvers\.web\.recheck_groups/.test(err.message),
    );
  });

  it('refuses unknown keys and a plain-http redirect URI, naming the key', () => {
    assert.throws(
      () => parseConfig(withApprovers('    web: { client_id: jitgate, client_secret_file: s, secret: x }\n'), { source: 'c.yaml', baseDir: '/' }),
      (err: unknown) => err instanceof ConfigError && /identity\.approvers\.web/.test(err.message),
    );
    assert.throws(
      () => parseConfig(withApprovers('    web: { client_id: jitgate, client_secret_file: s, redirect_uri: "http://jit.example/cb" }\n'), { source: 'c.yaml', baseDir: '/' }),
      (err: unknown) => err instanceof ConfigError && /identity\.approvers\.web\.redirect_uri/.test(err.message),
    );
  });
});
