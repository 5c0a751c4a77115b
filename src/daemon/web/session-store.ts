import { randomBytes } from 'node:crypto';
import type { Clock } from '../../common/clock.js';
import type { ApproverIdentity } from '../../model/context.js';

export interface Flash {
  readonly kind: 'info' | 'error';
  readonly text: string;
  /** A same-site link after the text (the step-up sign-in). */
  readonly link?: { readonly href: string; readonly text: string };
}

export interface Session {
  readonly id: string;
  /** Per-session anti-CSRF token, echoed by every form. */
  readonly csrf: string;
  /** As verified at sign-in; its groups are replaced by each re-check at decision time. */
  identity: ApproverIdentity;
  /** The sign-in's access token, for the IdP's userinfo endpoint. Only in memory, never logged. */
  readonly accessToken?: string;
  /** One message for the next page view (the outcome of a POST). */
  flash?: Flash;
  /** Monotonic ms. */
  readonly expiresAt: number;
}

export interface SessionStoreOptions {
  readonly clock: Clock;
  /** Lifetime of a signed-in session. Default 1 h. */
  readonly ttlMs?: number;
  /** Most sessions held; the oldest go first. Default 10,000. */
  readonly maxSessions?: number;
  /** Most sessions of one approver (subject); their oldest goes first. Default 20. */
  readonly maxPerSubject?: number;
}

export function randomToken(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * Signed-in approvers' sessions, only in memory: a restart signs everyone out, which is the safe
 * direction. Only an IdP-verified (and audited) sign-in creates one; sign-ins in progress live in
 * a sealed cookie (login-state.ts), so anonymous visitors cannot fill this map or push anyone out.
 * It is still bounded (the oldest go first, Map keeps insertion order), and one approver signing
 * in over and over only displaces their own older sessions.
 */
export class SessionStore {
  readonly #clock: Clock;
  readonly #ttlMs: number;
  readonly #max: number;
  readonly #maxPerSubject: number;
  readonly #sessions = new Map<string, Session>();

  constructor(options: SessionStoreOptions) {
    this.#clock = options.clock;
    this.#ttlMs = options.ttlMs ?? 3_600_000;
    this.#max = options.maxSessions ?? 10_000;
    this.#maxPerSubject = options.maxPerSubject ?? 20;
  }

  get size(): number {
    return this.#sessions.size;
  }

  get(id: string | undefined): Session | undefined {
    if (id === undefined) return undefined;
    const session = this.#sessions.get(id);
    if (session === undefined) return undefined;
    if (this.#clock.monotonic() >= session.expiresAt) {
      this.#sessions.delete(id);
      return undefined;
    }
    return session;
  }

  /**
   * A fresh session (new id: no fixation) for a verified approver; the browser's previous one is
   * dropped. It ends after the store's lifetime or when the ID token expires (`idTokenExpMs`,
   * wall-clock ms), whichever comes first: a session never outlives the sign-in it stands for.
   */
  signIn(previous: Session | undefined, identity: ApproverIdentity, signedIn: { readonly accessToken?: string; readonly idTokenExpMs?: number } = {}): Session {
    if (previous !== undefined) this.#sessions.delete(previous.id);
    const now = this.#clock.monotonic();
    const tokenLeft = signedIn.idTokenExpMs === undefined ? Infinity : signedIn.idTokenExpMs - this.#clock.now();
    return this.#add({
      id: randomToken(),
      csrf: randomToken(),
      identity,
      ...(signedIn.accessToken !== undefined && { accessToken: signedIn.accessToken }),
      expiresAt: now + Math.min(this.#ttlMs, tokenLeft),
    });
  }

  delete(id: string): void {
    this.#sessions.delete(id);
  }

  #add(session: Session): Session {
    const now = this.#clock.monotonic();
    const own: string[] = [];
    for (const [id, s] of this.#sessions) {
      if (now >= s.expiresAt) this.#sessions.delete(id);
      else if (s.identity.subject === session.identity.subject) own.push(id);
    }
    for (const id of own.slice(0, Math.max(0, own.length - this.#maxPerSubject + 1))) this.#sessions.delete(id);
    while (this.#sessions.size >= this.#max) {
      const oldest = this.#sessions.keys().next();
      if (oldest.done === true) break;
      this.#sessions.delete(oldest.value);
    }
    this.#sessions.set(session.id, session);
    return session;
  }
}
