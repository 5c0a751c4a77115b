import { randomBytes } from 'node:crypto';
import type { Clock } from '../../common/clock.js';
import type { ApproverIdentity } from '../../model/context.js';

/** An authorization request in flight: what the callback must match. */
export interface PendingLogin {
  readonly state: string;
  readonly nonce: string;
  readonly verifier: string;
  /** Where to go after signing in; always a path of this site. */
  readonly returnTo: string;
}

export interface Flash {
  readonly kind: 'info' | 'error';
  readonly text: string;
}

export interface Session {
  readonly id: string;
  /** Per-session anti-CSRF token, echoed by every form. */
  readonly csrf: string;
  readonly identity?: ApproverIdentity;
  login?: PendingLogin;
  /** One message for the next page view (the outcome of a POST). */
  flash?: Flash;
  /** Monotonic ms. */
  readonly expiresAt: number;
}

export interface SessionStoreOptions {
  readonly clock: Clock;
  /** Lifetime of a signed-in session. Default 1 h. */
  readonly ttlMs?: number;
  /** Lifetime of a session that only holds a sign-in in progress. Default 10 min. */
  readonly loginTtlMs?: number;
  /** Most sessions held; the oldest go first. Default 10,000. */
  readonly maxSessions?: number;
}

export function randomToken(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * Sessions live only in memory: a restart signs everyone out, which is the safe direction. The map
 * is bounded so unauthenticated visitors starting sign-ins cannot grow it without limit; when full,
 * the oldest session is dropped (Map keeps insertion order).
 */
export class SessionStore {
  readonly #clock: Clock;
  readonly #ttlMs: number;
  readonly #loginTtlMs: number;
  readonly #max: number;
  readonly #sessions = new Map<string, Session>();

  constructor(options: SessionStoreOptions) {
    this.#clock = options.clock;
    this.#ttlMs = options.ttlMs ?? 3_600_000;
    this.#loginTtlMs = options.loginTtlMs ?? 600_000;
    this.#max = options.maxSessions ?? 10_000;
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

  /** A session for a sign-in in progress; no identity yet. */
  startLogin(login: PendingLogin): Session {
    return this.#add({ id: randomToken(), csrf: randomToken(), login, expiresAt: this.#clock.monotonic() + this.#loginTtlMs });
  }

  /** A fresh session (new id: no fixation) for a verified approver; the sign-in session is dropped. */
  signIn(previous: Session, identity: ApproverIdentity): Session {
    this.#sessions.delete(previous.id);
    return this.#add({ id: randomToken(), csrf: randomToken(), identity, expiresAt: this.#clock.monotonic() + this.#ttlMs });
  }

  delete(id: string): void {
    this.#sessions.delete(id);
  }

  #add(session: Session): Session {
    const now = this.#clock.monotonic();
    for (const [id, s] of this.#sessions) {
      if (now >= s.expiresAt) this.#sessions.delete(id);
    }
    while (this.#sessions.size >= this.#max) {
      const oldest = this.#sessions.keys().next();
      if (oldest.done === true) break;
      this.#sessions.delete(oldest.value);
    }
    this.#sessions.set(session.id, session);
    return session;
  }
}
