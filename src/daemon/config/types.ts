/**
 * The validated, normalised configuration: durations in milliseconds, secrets as file paths
 * (never inline), defaults filled in. Produced once by `loadConfig` and frozen.
 */

export interface ListenConfig {
  readonly socket: string;
  /** File mode of the socket, default 0o660. */
  readonly socketMode: number;
  /**
   * Unix group (name, or gid as digits) the socket is chowned to and its directory made
   * traversable by. Absent: the socket keeps the daemon's primary group.
   */
  readonly socketGroup?: string;
  readonly tcp?: {
    readonly address: string; // host:port
    readonly tls: { readonly certFile: string; readonly keyFile: string; readonly clientCaFile?: string };
    /**
     * Serve AccessService (credential requests) on TCP too. Default false: TCP is for remote
     * approvers, and anyone who reaches the port could otherwise ask for credentials off the host.
     */
    readonly access: boolean;
  };
}

export type StateConfig =
  | { readonly kind: 'sqlite'; readonly path: string }
  /** The URL never holds a password (inline secrets are refused); it comes from `passwordFile` when set. */
  | { readonly kind: 'postgres'; readonly url: string; readonly passwordFile?: string };

export interface AuditConfig {
  readonly file: string;
  /** Ed25519 private key (PKCS#8 PEM). Created with mode 0600 next to the log when absent. */
  readonly signingKeyFile: string;
  /** 32+ random bytes used to HMAC token accessors and lease ids. Created when absent. */
  readonly hmacKeyFile: string;
  /** A signed checkpoint record after every N records. */
  readonly checkpointEvery: number;
  /** fsync before an append is acknowledged. Default true. */
  readonly fsync: boolean;
}

export type VaultAuthConfig =
  /** A fleet runner under `fleet.mint: plane`: no Vault identity at all (it only unwraps). */
  | { readonly kind: 'none' }
  | { readonly kind: 'token'; readonly tokenFile: string }
  | { readonly kind: 'approle'; readonly roleIdFile: string; readonly secretIdFile: string; readonly mount: string };

export interface VaultConfig {
  readonly address: string;
  readonly auth: VaultAuthConfig;
  /** Per-HTTP-request timeout. */
  readonly timeoutMs: number;
  /** Attempts for a mint before the request is denied UNAVAILABLE. */
  readonly mintAttempts: number;
  /** Attempts (with backoff) for a revoke before it is alerted and left to the TTL. */
  readonly revokeAttempts: number;
  readonly caFile?: string;
  /**
   * Token role grant tokens are created through (`auth/token/create/<role>`): the role's
   * `allowed_policies`, not the daemon's own policies, bound what a grant may carry.
   */
  readonly tokenRole?: string;
}

export interface CiIssuerConfig {
  readonly issuer: string;
  readonly audience: string;
  /** `github`, `gitlab` or `generic`; defaults by issuer URL. */
  readonly kind: 'github' | 'gitlab' | 'generic';
  /** JWKS URL; discovered via /.well-known/openid-configuration when absent. */
  readonly jwksUri?: string;
  readonly algorithms: readonly string[];
  readonly leewayMs: number;
  readonly maxTokenAgeMs: number;
  /** For `generic`: context field → claim name. */
  readonly claims: Readonly<Record<string, string>>;
  /** Base URL used to build run links, e.g. https://github.com. */
  readonly webUrl?: string;
}

export interface ApproverIdpConfig {
  readonly issuer: string;
  readonly audience: string;
  readonly groupsClaim: string;
  /**
   * `identity.approvers.username_claim`: the claim `user:` entries and static groups match. Absent:
   * the e-mail when `email_verified` is true, else `sub`. Only a claim the IdP guarantees (users
   * cannot edit it) belongs here.
   */
  readonly usernameClaim?: string;
  /**
   * `identity.approvers.actor_claims`: claims whose values are the person's CI logins (e.g.
   * `github_login`). An approver whose login equals the run's actor or commit author cannot approve it.
   */
  readonly actorClaims?: readonly string[];
  readonly jwksUri?: string;
  /** Sign-in for the approval web page (OIDC authorization code + PKCE). Config key `identity.approvers.web`. */
  readonly web?: ApproverWebConfig;
}

export interface ApproverWebConfig {
  /** Its ID tokens' audience must be `identity.approvers.audience`. */
  readonly clientId: string;
  /** Absolute path (resolved against the config file's directory). */
  readonly clientSecretFile: string;
  /** Default `openid profile email groups`. */
  readonly scopes: readonly string[];
  /** As registered at the IdP; default `<http.public_url>/auth/callback`. Set it when a proxy maps another URL there. */
  readonly redirectUri?: string;
  /**
   * Ask the IdP's userinfo endpoint for the approver's groups again at every decision, so a
   * session never outlives a removal from a group. Default true. Config key
   * `identity.approvers.web.recheck_groups`; set false only for an IdP that releases no groups at
   * userinfo (then a session lasts at most as long as its ID token).
   */
  readonly recheckGroups: boolean;
}

export interface IdentityConfig {
  /** Development only: the client asserts its own context; every audit record says `trust: local`. */
  readonly localContext: boolean;
  /** Development only: approvers name themselves (`jitgate approve ID --as bob`). */
  readonly localApprovers: boolean;
  readonly ci: readonly CiIssuerConfig[];
  readonly approvers?: ApproverIdpConfig;
}

export interface ResourceConfig {
  readonly name: string;
  readonly vault: {
    readonly policies: readonly string[];
    /** Path read with the child token, e.g. `database/creds/migrator`. */
    readonly read?: string;
  };
  /** Env var name → source: `token` (the child token), or a key of the read response's `data`. */
  readonly env: Readonly<Record<string, string>>;
  readonly ttlMs: number;
  readonly maxTtlMs: number;
  /** What to do with a requested TTL above `maxTtlMs`. */
  readonly excessTtl: 'clamp' | 'deny';
  /**
   * `resources.*.step_up`: approving needs an IdP sign-in at most `maxAgeMs` old (the web page,
   * fresh login); a Slack or webhook click does not approve. Absent: any approver channel.
   */
  readonly stepUp?: { readonly maxAgeMs: number };
}

/** A match value: one pattern or a list of alternatives. `*` matches within a path segment, `**` across. */
export type MatchPatterns = readonly string[];

export interface PolicyMatch {
  readonly resource?: MatchPatterns;
  /** Exact issuer URLs (no wildcards): the rule matches only tokens whose verified `iss` is one of them. */
  readonly issuer?: MatchPatterns;
  readonly repository?: MatchPatterns;
  readonly repositoryId?: MatchPatterns;
  readonly repositoryOwnerId?: MatchPatterns;
  readonly namespaceId?: MatchPatterns;
  readonly ref?: MatchPatterns;
  readonly refType?: MatchPatterns;
  readonly environment?: MatchPatterns;
  readonly actor?: MatchPatterns;
  readonly workflow?: MatchPatterns;
  readonly jobWorkflowRef?: MatchPatterns;
  readonly event?: MatchPatterns;
  readonly runnerEnvironment?: MatchPatterns;
  /** Fork contexts match only rules with `fork: true`. */
  readonly fork?: boolean;
}

export interface RequireSpec {
  readonly approvals: number;
  /** Principals: `group:NAME` or `user:NAME`. */
  readonly from: readonly string[];
  /** When true, at least one approval from each `from` principal is needed (AND), besides the count. */
  readonly everyGroup: boolean;
  readonly expiresAfterMs: number;
  readonly escalate: readonly { readonly afterMs: number; readonly to: readonly string[] }[];
  /** `policies[].break_glass`: who may grant without quorum, and for how long at most. */
  readonly breakGlass?: BreakGlassSpec;
  /**
   * `require.supersede`: a newer commit's request for the same repository, workflow, ref and resource
   * ends this one (SUPERSEDED). Absent: on for branches (`refs/heads/*`), off otherwise (tags).
   */
  readonly supersede?: boolean;
  /**
   * `require.approval_scope: run`: one approval covers later requests of the same run id, run
   * attempt, commit and resource for `ttlMs` (`require.scope_ttl`). Absent: every request on its own.
   */
  readonly approvalScope?: { readonly ttlMs: number };
}

export interface BreakGlassSpec {
  /** Group names (no `group:` prefix) whose members may break the glass. */
  readonly groups: readonly string[];
  /** The grant's TTL is cut to this. Default 15 min. */
  readonly maxTtlMs: number;
  /** Whether the run's own actor may break the glass on it. Default false. */
  readonly allowSelf: boolean;
}

export type PolicyRule =
  | { readonly name: string; readonly match: PolicyMatch; readonly decision: 'deny' | 'auto-approve' }
  | { readonly name: string; readonly match: PolicyMatch; readonly decision: 'require'; readonly require: RequireSpec };

export interface LimitsConfig {
  readonly maxPendingRequests: number;
  /** Pending requests one repository (of one issuer) may hold at once: one repository cannot fill the approvers' queue. */
  readonly pendingPerRepository: number;
  /** Pending requests one actor (of one issuer) may hold at once. */
  readonly pendingPerActor: number;
  readonly maxMessageBytes: number;
  readonly maxMetadataBytes: number;
  /** Deadline for unary RPCs that arrive without one. */
  readonly defaultRpcDeadlineMs: number;
}

/** The validated notifier entries: camelCase, secrets still as file paths (read at start). */
export interface SlackNotifierConfig {
  readonly kind: 'slack';
  readonly tokenFile: string;
  readonly signingSecretFile: string;
  readonly channel: string;
  readonly teamId: string;
  /** Slack user id → approver name (the same name the CLI uses). */
  readonly users: Readonly<Record<string, string>>;
  readonly apiUrl?: string;
}

export interface WebhookNotifierConfig {
  readonly kind: 'webhook';
  readonly url: string;
  readonly secretFile: string;
  /** When set, signed decisions may be POSTed to /webhook/decisions and act as this identity. */
  readonly decisions?: { readonly identity: string };
}

export interface EmailNotifierConfig {
  readonly kind: 'email';
  readonly smtp: {
    readonly host: string;
    readonly port: number;
    /**
     * `starttls`: STARTTLS is required, a server that does not offer it gets nothing; `implicit`:
     * TLS from the first byte; `none`: TLS not required (mail and password may go in clear).
     */
    readonly tls: 'starttls' | 'implicit' | 'none';
    /** PEM bundle the relay's certificate must chain to; default the system's roots. */
    readonly caFile?: string;
    readonly user?: string;
    readonly passwordFile?: string;
  };
  readonly from: string;
  readonly to: readonly string[];
}

export type NotifierConfig = SlackNotifierConfig | WebhookNotifierConfig | EmailNotifierConfig;

/** `fleet:`: this daemon is one of many on one PostgreSQL state database. */
export interface FleetConfig {
  /** `fleet.node`, default the host name: owns this daemon's requests and grants, named in its audit. */
  readonly node: string;
  readonly heartbeatIntervalMs: number;
  /** A node whose heartbeat is older than this is declared dead by the fleet sweeper. */
  readonly heartbeatTimeoutMs: number;
  /** How often the owner re-reads its pending requests, in case a notification was lost. */
  readonly reconcileIntervalMs: number;
  readonly mint: 'owner' | 'plane';
  readonly role: 'runner' | 'plane' | 'both';
}

export interface Config {
  readonly listen: ListenConfig;
  readonly state: StateConfig;
  /** Absent: a single host. */
  readonly fleet?: FleetConfig;
  readonly audit: AuditConfig;
  readonly vault: VaultConfig;
  readonly identity: IdentityConfig;
  /** Static group membership for local approvers: group → names. */
  readonly groups: Readonly<Record<string, readonly string[]>>;
  readonly resources: Readonly<Record<string, ResourceConfig>>;
  readonly policies: readonly PolicyRule[];
  /** Notifier entries as written (snake_case), `*_file` values resolved to absolute paths; checked by checkConfig. */
  readonly notifiers: readonly unknown[];
  /**
   * HTTP listener for callbacks (Slack interactions, inbound webhook decisions) and the approval
   * web page. Absent: no HTTP endpoint. Config key `http: { listen: "127.0.0.1:8081", public_url }`.
   */
  readonly http?: { readonly listen: string; readonly publicUrl?: string };
  readonly limits: LimitsConfig;
  readonly log: {
    readonly level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';
    /** `auto`: human-readable lines when stderr is a terminal, JSON (for journald) otherwise. */
    readonly format: 'auto' | 'json' | 'pretty';
  };
  /** SIGTERM → exit deadline. */
  readonly stopTimeoutMs: number;
}

/** The approval web page's settings, every derived value resolved (`identity.approvers.web`). */
export interface WebPagesConfig {
  /** The approvers' IdP: the page signs in with the ID tokens approvers use everywhere. */
  readonly approvers: ApproverIdpConfig;
  readonly clientId: string;
  readonly clientSecretFile: string;
  readonly scopes: readonly string[];
  /** `identity.approvers.web.recheck_groups`. */
  readonly recheckGroups: boolean;
  /** `identity.approvers.web.redirect_uri`, or `<http.public_url>/auth/callback`. */
  readonly redirectUri: string;
  /** `http.public_url`: the origin decisions must be posted from. */
  readonly publicUrl?: string;
}

/**
 * What `checkConfig` hands the daemon: a Config with no problem left, its notifier entries
 * validated and typed and the web page's settings resolved. Nothing downstream validates again.
 */
/** `listen` once the config phase has resolved `socketGroup` (which needs the group database). */
export interface CheckedListenConfig extends ListenConfig {
  /** The gid of `socketGroup`; present exactly when it is. */
  readonly socketGid?: number;
}

export interface CheckedConfig extends Omit<Config, 'notifiers' | 'listen'> {
  readonly listen: CheckedListenConfig;
  readonly notifiers: readonly NotifierConfig[];
  /** Present when `identity.approvers.web` is configured. */
  readonly webPages?: WebPagesConfig;
}
