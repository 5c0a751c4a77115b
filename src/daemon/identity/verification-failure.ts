import { errors } from 'jose';
import { IdentityError, JitgateError } from '../../common/errors.js';

/**
 * jose's messages are fine but unstable; callers and audits get short, fixed reasons that name what
 * was wrong and never echo the token. `what` names the token ("token", "approver token");
 * `tooOld` is the message for a token past its maximum age.
 */
export function verificationFailure(err: unknown, what: string, tooOld = `${what} too old`): Error {
  if (err instanceof JitgateError) return err;
  const fail = (reason: string): IdentityError => new IdentityError(reason, { cause: err });
  if (err instanceof errors.JWTExpired) return fail(err.claim === 'iat' ? tooOld : `${what} expired`);
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.reason === 'missing') return fail(`${what} lacks required claim "${err.claim}"`);
    switch (err.claim) {
      case 'aud':
        return fail(`${what} audience mismatch`);
      case 'iss':
        return fail(`${what} issuer mismatch`);
      case 'nbf':
        return fail(`${what} not yet valid`);
      case 'iat':
        return fail(`${what} issued in the future`);
      default:
        return fail(`${what} claims invalid`);
    }
  }
  if (err instanceof errors.JOSEAlgNotAllowed) return fail(`${what} algorithm not allowed`);
  if (err instanceof errors.JWSSignatureVerificationFailed) return fail(`${what} signature invalid`);
  if (err instanceof errors.JWKSNoMatchingKey) return fail('unknown signing key');
  if (err instanceof errors.JWKSMultipleMatchingKeys) return fail('ambiguous signing key');
  if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid) return fail(`malformed ${what}`);
  return fail(`${what} verification failed`);
}
