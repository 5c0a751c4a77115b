import { createRequire as __jitgateCreateRequire } from 'node:module';
const require = __jitgateCreateRequire(import.meta.url);

// actions/request-access/src/main.ts
import { spawn } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

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

// actions/request-access/src/lib/holder-protocol.ts
function isRecord(value) {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
function isStringMap(value) {
  return isRecord(value) && Object.values(value).every((v) => typeof v === "string");
}
function isHolderMessage(value) {
  if (!isRecord(value)) return false;
  switch (value["type"]) {
    case "progress":
      return typeof value["line"] === "string";
    case "failed":
      return typeof value["message"] === "string";
    case "granted":
      return typeof value["grantId"] === "string" && typeof value["requestId"] === "string" && typeof value["expiresAtMs"] === "number" && isStringMap(value["credentials"]);
    default:
      return false;
  }
}
var LOG_FILE = "holder.log";
var HOLDER_DIR_ENV = "JITGATE_HOLDER_DIR";

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
import { randomUUID } from "node:crypto";
import { appendFileSync } from "node:fs";
function escapeData(text) {
  return text.replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
}
function maskCommands(value) {
  const lines = value.split(/\r?\n/).filter((line) => line.trim() !== "");
  const whole = `::add-mask::${escapeData(value)}`;
  return lines.length > 1 ? [whole, ...lines.map((line) => `::add-mask::${escapeData(line)}`)] : [whole];
}
function errorCommand(message) {
  return `::error::${escapeData(message)}`;
}
var NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
function fileCommandEntry(name, value) {
  if (!NAME_RE.test(name)) throw new InvalidArgumentError("name", `${JSON.stringify(name)} is not a valid variable name`);
  let delimiter = `ghadelimiter_${randomUUID()}`;
  while (value.includes(delimiter)) delimiter = `ghadelimiter_${randomUUID()}`;
  return `${name}<<${delimiter}
${value}
${delimiter}
`;
}
function appendFileCommand(env, variable, entries) {
  const file = env[variable];
  if (!file) throw new InvalidArgumentError(variable, "not set; this action runs on GitHub Actions only");
  appendFileSync(file, Object.entries(entries).map(([name, value]) => fileCommandEntry(name, value)).join(""));
}

// actions/request-access/src/main.ts
var HERE = dirname(fileURLToPath(import.meta.url));
function out(line) {
  process.stdout.write(`${line}
`);
}
function fail(message) {
  out(errorCommand(`jitgate: ${message}`));
  return 1;
}
function startHolder(dir) {
  const log = openSync(join(dir, LOG_FILE), "a", 384);
  try {
    return spawn(process.execPath, [join(HERE, "hold.js")], {
      detached: true,
      stdio: ["ignore", log, log, "ipc"],
      env: { ...process.env, [HOLDER_DIR_ENV]: dir }
    });
  } finally {
    closeSync(log);
  }
}
function converse(holder) {
  return new Promise((resolve) => {
    let cancelledBy;
    const onSignal = (signal) => {
      cancelledBy = signal;
      holder.kill("SIGTERM");
    };
    const done = (outcome) => {
      for (const s of ["SIGINT", "SIGTERM"]) process.off(s, onSignal);
      resolve(outcome);
    };
    for (const s of ["SIGINT", "SIGTERM"]) process.on(s, onSignal);
    holder.on("message", (message) => {
      if (!isHolderMessage(message)) return;
      if (message.type === "progress") out(message.line);
      else done(message);
    });
    holder.once("exit", () => {
      done(cancelledBy === void 0 ? { type: "exited" } : { type: "exited", signal: cancelledBy });
    });
    holder.once("error", (err) => {
      done({ type: "failed", message: `cannot start the holder: ${errorMessage(err)}` });
    });
  });
}
function exportGrant(inputs, granted) {
  const env = process.env;
  const values = Object.values(granted.credentials).filter((v) => v !== "");
  for (const value of values) for (const line of maskCommands(value)) out(line);
  appendFileCommand(env, "GITHUB_ENV", granted.credentials);
  appendFileCommand(env, "GITHUB_STATE", { grant_id: granted.grantId });
  if (env.GITHUB_OUTPUT) {
    appendFileCommand(env, "GITHUB_OUTPUT", {
      grant_id: granted.grantId,
      request_id: granted.requestId,
      expires_at: new Date(granted.expiresAtMs).toISOString()
    });
  }
  const names = Object.keys(granted.credentials).join(", ");
  out(
    `jitgate: granted ${inputs.resource} (grant ${granted.grantId}, valid until ${new Date(granted.expiresAtMs).toISOString()}); exported ${names} (masked) to later steps; released when the job ends`
  );
}
function acknowledge(holder) {
  return new Promise((resolve, reject) => {
    holder.send({ type: "accepted" }, (err) => {
      if (err) reject(err);
      else resolve();
    });
  });
}
async function main() {
  const env = process.env;
  let inputs;
  try {
    inputs = readInputs(env);
    checkIdTokenPermission(env);
    for (const name of ["GITHUB_ENV", "GITHUB_STATE"]) {
      if (!env[name]) throw new InvalidArgumentError(name, "not set; this action runs on GitHub Actions only");
    }
  } catch (err) {
    return fail(errorMessage(err));
  }
  const dir = mkdtempSync(join(env.RUNNER_TEMP || tmpdir(), "jitgate-"));
  const holder = startHolder(dir);
  if (holder.pid !== void 0) appendFileCommand(env, "GITHUB_STATE", { pid: String(holder.pid), dir });
  out(`jitgate: requesting ${inputs.resource} from jitgated at ${inputs.socket}`);
  const outcome = await converse(holder);
  if (outcome.type === "granted") {
    try {
      exportGrant(inputs, outcome);
      await acknowledge(holder);
    } catch (err) {
      holder.kill("SIGTERM");
      return fail(`cannot export the credentials (${errorMessage(err)}); the grant is released`);
    }
    holder.disconnect();
    holder.unref();
    return 0;
  }
  if (outcome.type === "failed") return fail(outcome.message);
  if (outcome.signal !== void 0) return fail(`${outcome.signal} received; request cancelled`);
  const log = readFileSync(join(dir, LOG_FILE), "utf8").trim();
  rmSync(dir, { recursive: true, force: true });
  return fail(`the holder exited before a decision${log === "" ? "" : `: ${log.split("\n").at(-1) ?? ""}`}`);
}
main().then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.exitCode = fail(errorMessage(err));
  }
);
