import { badRequest } from './api-error.js';
import { Acl, DEFAULT_POLICY, parsePolicy, RESPONSE_WRAPPING_POLICY, type PolicyRule } from './acl.js';

interface StoredPolicy {
  readonly text: string;
  readonly rules: PolicyRule[];
}

/** ACL policies by name, with Vault's built-in `root`, `default` and `response-wrapping`. */
export class PolicyStore {
  readonly #policies = new Map<string, StoredPolicy>();

  constructor() {
    this.#policies.set('default', { text: DEFAULT_POLICY, rules: parsePolicy(DEFAULT_POLICY) });
    this.#policies.set('response-wrapping', { text: RESPONSE_WRAPPING_POLICY, rules: parsePolicy(RESPONSE_WRAPPING_POLICY) });
  }

  put(name: string, text: string): void {
    const key = name.toLowerCase();
    if (key === 'root') throw badRequest('cannot update "root" policy');
    if (key === 'response-wrapping') throw badRequest('cannot update "response-wrapping" policy');
    this.#policies.set(key, { text, rules: parsePolicy(text) });
  }

  get(name: string): string | null {
    const key = name.toLowerCase();
    if (key === 'root') return '';
    return this.#policies.get(key)?.text ?? null;
  }

  delete(name: string): void {
    const key = name.toLowerCase();
    if (key === 'root' || key === 'default' || key === 'response-wrapping') throw badRequest(`cannot delete "${key}" policy`);
    this.#policies.delete(key);
  }

  names(): string[] {
    return ['root', ...[...this.#policies.keys()].filter((n) => n !== 'response-wrapping')].sort();
  }

  /** Policies written through the API (not the built-ins), for the storage file. */
  written(): { name: string; text: string }[] {
    return [...this.#policies].filter(([n]) => n !== 'default' && n !== 'response-wrapping').map(([name, p]) => ({ name, text: p.text }));
  }

  /** The merged ACL of `names`; unknown policy names grant nothing. */
  acl(names: readonly string[]): Acl {
    const rules = names.flatMap((n) => {
      const p = this.#policies.get(n);
      return p ? [p.rules] : [];
    });
    return new Acl(rules, names.includes('root'));
  }
}
