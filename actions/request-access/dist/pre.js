import { createRequire as __jitgateCreateRequire } from 'node:module';
const require = __jitgateCreateRequire(import.meta.url);

// src/common/errors.ts
var JitgateError = class extends Error {
  /** The generic code of this class; the gRPC status is derived from it. */
  static genericCode = "ERR_INTERNAL";
  /** Stable, machine-readable code; never changes once published. */
  code;
  constructor(message, options) {
    super(message, options?.cause === void 0 ? void 0 : { cause: options.cause });
    this.name = new.target.name;
    this.code = options?.code ?? new.target.genericCode;
  }
  /** The generic code of this error's class. */
  get genericCode() {
    return this.constructor.genericCode;
  }
};
var InvalidArgumentError = class extends JitgateError {
  constructor(field, message, options) {
    super(`${field}: ${message}`, options);
    this.field = field;
  }
  field;
  static genericCode = "ERR_INVALID_ARGUMENT";
};
var IdentityError = class extends JitgateError {
  static genericCode = "ERR_IDENTITY";
};
function errorMessage(err) {
  if (err instanceof Error) return err.message;
  return String(err);
}

// src/common/duration.ts
var UNIT_MS = { ms: 1, s: 1e3, m: 6e4, h: 36e5, d: 864e5 };
var DURATION_RE = /^(?:\d+(?:ms|s|m|h|d))+$/;
var PART_RE = /(\d+)(ms|s|m|h|d)/g;
function parseDuration(text, field = "duration") {
  const trimmed = text.trim();
  if (!DURATION_RE.test(trimmed)) {
    throw new InvalidArgumentError(field, `invalid duration ${JSON.stringify(text)} (use e.g. 500ms, 60s, 15m, 1h)`);
  }
  let total = 0;
  for (const [, amount, unit] of trimmed.matchAll(PART_RE)) {
    total += Number(amount) * (UNIT_MS[unit ?? ""] ?? Number.NaN);
  }
  if (!Number.isSafeInteger(total) || total <= 0) {
    throw new InvalidArgumentError(field, `duration ${JSON.stringify(text)} must be positive`);
  }
  return total;
}

// actions/request-access/src/lib/inputs.ts
var DEFAULT_SOCKET = "/run/jitgated/jitgated.sock";
var DEFAULT_AUDIENCE = "jitgate";
function readInput(env, name) {
  const value = env[`INPUT_${name.replace(/ /g, "_").toUpperCase()}`]?.trim();
  return value === void 0 || value === "" ? void 0 : value;
}
function readInputs(env) {
  const resource = readInput(env, "resource");
  if (resource === void 0) throw new InvalidArgumentError("resource", "input required (the resource name from the jitgated config)");
  const ttl = readInput(env, "ttl");
  if (ttl !== void 0) parseDuration(ttl, "ttl");
  const reason = readInput(env, "reason");
  return {
    resource,
    ...reason === void 0 ? {} : { reason },
    ...ttl === void 0 ? {} : { ttl },
    socket: readInput(env, "socket") ?? DEFAULT_SOCKET,
    audience: readInput(env, "audience") ?? DEFAULT_AUDIENCE
  };
}
function checkIdTokenPermission(env) {
  const missing = ["ACTIONS_ID_TOKEN_REQUEST_URL", "ACTIONS_ID_TOKEN_REQUEST_TOKEN"].filter((name) => !env[name]);
  if (missing.length > 0) {
    throw new IdentityError(
      `the job has no OIDC token: add \`permissions: id-token: write\` to the job (${missing.join(" and ")} ${missing.length > 1 ? "are" : "is"} not set)`
    );
  }
}

// actions/request-access/src/lib/workflow-commands.ts
function escapeData(text) {
  return text.replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
}
function errorCommand(message) {
  return `::error::${escapeData(message)}`;
}

// actions/request-access/src/pre.ts
try {
  readInputs(process.env);
  checkIdTokenPermission(process.env);
} catch (err) {
  process.stdout.write(`${errorCommand(`jitgate: ${errorMessage(err)}`)}
`);
  process.exitCode = 1;
}
