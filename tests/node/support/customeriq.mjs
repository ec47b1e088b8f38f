// The real pieces the browser and MCP tests run against: a nats-server on a
// free loopback port, the customeriq binary (ingest, publish, serve, mcp)
// on a database in a temporary directory. Every process started here is
// stopped here, by its PID.
//
// CUSTOMERIQ_BINARY names the binary and CUSTOMERIQ_SOURCE_DIR the source
// tree (ctest sets both); NATS_SERVER_BINARY overrides nats-server on PATH.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const binary = required("CUSTOMERIQ_BINARY");
export const sourceDir = required("CUSTOMERIQ_SOURCE_DIR");
export const seedEvents = join(sourceDir, "examples/events/seed.jsonl");

function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run these tests through ctest (see docs/TESTING.md)`);
  return value;
}

// The environment customeriq runs with: nothing of the caller's NATS_* or
// CUSTOMERIQ_* leaks in, HOME is the temporary directory.
export function customeriqEnv(home, extra = {}) {
  const env = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith("NATS_") && !name.startsWith("CUSTOMERIQ_")) env[name] = value;
  }
  return { ...env, HOME: home, CUSTOMERIQ_HTTP_ADDR: "127.0.0.1:0", ...extra };
}

export function tempDir(prefix = "customeriq-node-") {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

// A child process whose stderr (and stdout, unless piped for a protocol) is
// kept, so a failing test can show what it said.
class Child {
  constructor(command, args, options) {
    this.command = command;
    this.stderr = "";
    this.stdout = "";
    this.process = spawn(command, args, { ...options, stdio: ["pipe", "pipe", "pipe"] });
    this.exited = new Promise((resolve) => this.process.once("exit", (code, signal) => resolve({ code, signal })));
    this.process.stderr.setEncoding("utf8").on("data", (text) => (this.stderr += text));
    if (!options.keepStdout) this.process.stdout.setEncoding("utf8").on("data", (text) => (this.stdout += text));
  }

  get pid() {
    return this.process.pid;
  }

  running() {
    return this.process.exitCode === null && this.process.signalCode === null;
  }

  // Resolves with the first match of pattern on stderr, or rejects when the
  // process exits or timeoutMs passes first.
  async waitForStderr(pattern, timeoutMs = 15000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const match = this.stderr.match(pattern);
      if (match) return match;
      if (!this.running()) throw new Error(`${this.command} exited before printing ${pattern}:\n${this.stderr}`);
      if (Date.now() > deadline) throw new Error(`${this.command} did not print ${pattern} in ${timeoutMs} ms:\n${this.stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  // SIGTERM, then SIGKILL after graceMs; resolves with how it ended.
  async stop(graceMs = 10000) {
    if (!this.running()) return this.exited;
    process.kill(this.pid, "SIGTERM");
    const timer = setTimeout(() => this.running() && process.kill(this.pid, "SIGKILL"), graceMs);
    const ended = await this.exited;
    clearTimeout(timer);
    return ended;
  }
}

export async function startNats(workDir) {
  const executable = process.env.NATS_SERVER_BINARY || "nats-server";
  for (let attempt = 0; attempt < 5; ++attempt) {
    const port = await freePort();
    const server = new Child(executable, ["-a", "127.0.0.1", "-p", String(port)], { cwd: workDir });
    try {
      await server.waitForStderr(/Server is ready/, 10000);
      return { url: `nats://127.0.0.1:${port}`, stop: () => server.stop(5000), child: server };
    } catch (error) {
      await server.stop(1000);
      if (attempt === 4) throw error;
    }
  }
}

// Runs a customeriq command to its end: {code, stdout, stderr}.
export function runCustomeriq(home, args, extraEnv = {}, input = undefined) {
  const result = spawnSync(binary, args, { cwd: home, env: customeriqEnv(home, extraEnv), input, encoding: "utf8" });
  if (result.error) throw result.error;
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

export function ingestSeed(home, db) {
  const result = runCustomeriq(home, ["--db", db, "ingest", seedEvents]);
  if (result.code !== 0) throw new Error(`ingest of the seed events failed (${result.code}):\n${result.stderr}`);
}

// Publishes a new event of type for customer through the real NATS server,
// as another service would: the sample of that type with unique ids
// (`publish --count 1`), so it is never a duplicate of the seed's.
export function publishSample(home, natsUrl, type, customer = "cust_001") {
  const result = runCustomeriq(home, ["publish", "--event", type, "--count", "1", "--customer", customer, "--servers", natsUrl]);
  if (result.code !== 0) throw new Error(`customeriq publish failed (${result.code}):\n${result.stderr}`);
  return result.stdout;
}

// `customeriq serve` on db: HTTP on a free loopback port, NATS from natsUrl
// (or disabled when none). Resolves once it listens, with its base URL.
export async function startServe({ home, db, natsUrl, env = {} }) {
  const serveEnv = customeriqEnv(home, {
    CUSTOMERIQ_DB: db,
    ...(natsUrl ? { NATS_ENABLED: "true", NATS_SERVERS: natsUrl } : { NATS_ENABLED: "false" }),
    ...env,
  });
  const serve = new Child(binary, ["serve"], { cwd: home, env: serveEnv });
  try {
    const listening = await serve.waitForStderr(/\[HTTP\] Listening on (http:\/\/[^\s]+)/);
    if (natsUrl) await serve.waitForStderr(/\[NATS\] Service started successfully/);
    return { baseUrl: listening[1], stop: () => serve.stop(), child: serve };
  } catch (error) {
    await serve.stop(2000);
    throw error;
  }
}

// `customeriq mcp` with its stdio for the caller (the MCP SDK's stdio
// transport spawns it itself; this gives the command and environment).
export function mcpCommand(home, db, extraEnv = {}) {
  return { command: binary, args: ["--db", db, "mcp"], env: customeriqEnv(home, extraEnv), cwd: home };
}
