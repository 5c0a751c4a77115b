import type { ApproverIdentity } from '../../model/context.js';

/**
 * Whether an approver is one of the principals a rule allows. `group:X` needs X among the
 * approver's (IdP- or config-asserted) groups; `user:X` must equal the approver's stable subject or
 * display name. Aliases are not consulted: they exist to refuse self-approval, not to grant rights.
 */
export function approverAllowed(principals: readonly string[], who: ApproverIdentity): boolean {
  for (const principal of principals) {
    const colon = principal.indexOf(':');
    if (colon <= 0) continue;
    const kind = principal.slice(0, colon);
    const name = principal.slice(colon + 1);
    if (name === '') continue;
    if (kind === 'group' && who.groups.includes(name)) return true;
    if (kind === 'user' && (who.subject === name || who.name === name)) return true;
  }
  return false;
}
