import { createRequire as __jitgateCreateRequire } from 'node:module';
const require = __jitgateCreateRequire(import.meta.url);

// actions/request-access/src/post.ts
import { rmSync } from "node:fs";
import { basename } from "node:path";

// src/common/errors.ts
function errorMessage(err) {
  if (err instanceof Error) return err.message;
  return String(err);
}

// actions/request-access/src/lib/holder-process.ts
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

// actions/request-access/src/lib/holder-protocol.ts
var STATUS_FILE = "status";

// actions/request-access/src/lib/holder-process.ts
function procSaysHolder(pid) {
  const dir = `/proc/${pid}`;
  if (!existsSync("/proc/self")) return void 0;
  try {
    const stat = readFileSync(join(dir, "stat"), "utf8");
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    if (state === "Z" || state === "X") return false;
    return readFileSync(join(dir, "cmdline"), "utf8").split("\0").some((arg) => arg.endsWith("hold.js"));
  } catch {
    return false;
  }
}
function holderAlive(pid) {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  return procSaysHolder(pid) ?? true;
}
function readStatus(dir) {
  try {
    const parsed = JSON.parse(readFileSync(join(dir, STATUS_FILE), "utf8"));
    if (typeof parsed.outcome === "string" && typeof parsed.message === "string") return parsed;
  } catch {
  }
  return void 0;
}
async function waitForHolder(pid, dir, ms) {
  const deadline = Date.now() + ms;
  while (holderAlive(pid) && readStatus(dir) === void 0) {
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
  return true;
}

// actions/request-access/src/lib/workflow-commands.ts
function escapeData(text) {
  return text.replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
}
function errorCommand(message) {
  return `::error::${escapeData(message)}`;
}
function warningCommand(message) {
  return `::warning::${escapeData(message)}`;
}

// actions/request-access/src/post.ts
var RELEASE_WAIT_MS = 2e4;
function out(line) {
  process.stdout.write(`${line}
`);
}
async function stopHolder(pid, dir) {
  if (!holderAlive(pid)) return true;
  process.kill(pid, "SIGTERM");
  if (await waitForHolder(pid, dir, RELEASE_WAIT_MS)) return true;
  process.kill(pid, "SIGKILL");
  return false;
}
async function post() {
  const env = process.env;
  const pid = Number(env.STATE_pid ?? "");
  const dir = env.STATE_dir ?? "";
  const grantId = env.STATE_grant_id;
  if (!Number.isInteger(pid) || pid <= 0 || !basename(dir).startsWith("jitgate-")) {
    out("jitgate: nothing to release");
    return 0;
  }
  try {
    if (!await stopHolder(pid, dir)) {
      out(warningCommand(`jitgate: the holder did not release within ${RELEASE_WAIT_MS / 1e3}s and was killed; jitgated revokes the grant on the broken stream`));
      return 0;
    }
    const status = readStatus(dir);
    if (status === void 0) {
      if (grantId === void 0) out("jitgate: nothing to release (no grant was handed out)");
      else out(warningCommand(`jitgate: the holder of grant ${grantId} was gone; jitgated revoked the grant when its stream broke`));
    } else if (status.outcome === "release-failed") {
      out(warningCommand(`jitgate: ${status.message}`));
    } else {
      out(`jitgate: ${status.message}`);
    }
    return 0;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
post().then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    out(errorCommand(`jitgate: ${errorMessage(err)}`));
    process.exitCode = 1;
  }
);
