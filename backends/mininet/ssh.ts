/**
 * SSH transport to the testbed: key authentication only, the host key checked against a
 * known_hosts file or a pinned SHA256 fingerprint, timeouts on connecting and on every command,
 * commands assembled from validated names and shell-quoted arguments, uploads over SFTP.
 */
import { createHash, createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { isIP } from "node:net";
import { Client, type ClientChannel } from "ssh2";
import { InputError } from "../../src/core/errors.ts";

export interface TestbedAddress {
  user: string;
  host: string;
  port: number;
  /** normalised form, `ssh://user@host:port` */
  url: string;
}

const USER = /^[A-Za-z_][A-Za-z0-9_.-]{0,31}$/;
const HOST_LABEL = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/** Parses `ssh://user@host[:port]` strictly; anything else is an InputError naming the field. */
export function parseTestbedUrl(text: string, field = "testbed"): TestbedAddress {
  const bad = (why: string) => new InputError(`${why}; expected ssh://user@host[:port], got ${JSON.stringify(text)}`, { field });
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw bad("not a URL");
  }
  if (url.protocol !== "ssh:") throw bad(`unsupported scheme ${JSON.stringify(url.protocol.replace(/:$/, ""))}`);
  if (!/^ssh:\/\//i.test(text)) throw bad("missing //");
  if (url.password) throw bad("passwords are not accepted (key authentication only)");
  if (url.pathname !== "" && url.pathname !== "/") throw bad("unexpected path");
  if (url.search || url.hash) throw bad("unexpected query or fragment");
  const user = decodeURIComponent(url.username);
  if (!user) throw bad("missing user");
  if (!USER.test(user)) throw bad(`invalid user name ${JSON.stringify(user)}`);
  let host = url.hostname;
  if (host.startsWith("[") && host.endsWith("]")) {
    host = host.slice(1, -1);
    if (isIP(host) !== 6) throw bad("invalid IPv6 address");
  } else if (!isIP(host) && !(host.length <= 253 && host.split(".").every((l) => HOST_LABEL.test(l)))) {
    throw bad(`invalid host ${JSON.stringify(host)}`);
  }
  const port = url.port === "" ? 22 : Number(url.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw bad("invalid port");
  const shown = isIP(host) === 6 ? `[${host}]` : host;
  return { user, host, port, url: `ssh://${user}@${shown}:${port}` };
}

const NAME = /^[A-Za-z0-9_.-]+$/;

/** Validates a host, container or file name before it goes anywhere near a command line. */
export function safeName(kind: string, value: string): string {
  if (!NAME.test(value) || value.startsWith("-") || value === "." || value === "..") {
    throw new InputError(`invalid ${kind} name ${JSON.stringify(value)}: expected letters, digits, _ . -`);
  }
  return value;
}

/** `SHA256:base64` (unpadded), as `ssh-keygen -l -E sha256` prints it. */
export function fingerprintOf(keyBlob: Buffer): string {
  return `SHA256:${createHash("sha256").update(keyBlob).digest("base64").replace(/=+$/, "")}`;
}

/** The name known_hosts uses for a host: `host` on port 22, else `[host]:port`. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

interface KnownHostEntry {
  marker: "" | "@revoked" | "@cert-authority";
  matches: (name: string) => boolean;
  keyType: string;
  key: Buffer;
}

function globToRegExp(glob: string): RegExp {
  const body = glob
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${body}$`, "i");
}

/** Parses OpenSSH known_hosts text (plain, wildcard and hashed `|1|salt|hash` host fields). */
export function parseKnownHosts(text: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const fields = line.split(/\s+/);
    let marker: KnownHostEntry["marker"] = "";
    if (fields[0] === "@revoked" || fields[0] === "@cert-authority") marker = fields.shift() as KnownHostEntry["marker"];
    const [hosts, keyType, keyB64] = fields;
    if (!hosts || !keyType || !keyB64) continue;
    let matches: (name: string) => boolean;
    if (hosts.startsWith("|1|")) {
      const [, , salt, hash] = hosts.split("|");
      const saltBuf = Buffer.from(salt ?? "", "base64");
      matches = (name) => createHmac("sha1", saltBuf).update(name).digest("base64") === hash;
    } else {
      const patterns = hosts.split(",");
      matches = (name) => {
        let hit = false;
        for (const p of patterns) {
          if (p.startsWith("!")) {
            if (globToRegExp(p.slice(1)).test(name)) return false;
          } else if (globToRegExp(p).test(name)) {
            hit = true;
          }
        }
        return hit;
      };
    }
    entries.push({ marker, matches, keyType, key: Buffer.from(keyB64, "base64") });
  }
  return entries;
}

export interface HostKeyPolicy {
  /** path of an OpenSSH known_hosts file */
  knownHostsFile?: string | undefined;
  /** pinned `SHA256:...` fingerprint; checked instead of known_hosts when given */
  fingerprint?: string | undefined;
}

/** Why a presented host key is refused, or undefined when it is accepted. */
export function checkHostKey(policy: HostKeyPolicy, addr: TestbedAddress, key: Buffer): string | undefined {
  const fp = fingerprintOf(key);
  const name = knownHostsName(addr.host, addr.port);
  const fix =
    `check the fingerprint on the testbed (ssh-keygen -lf its host key) and pin it ` +
    `(--fingerprint ${fp}) or add it to a known_hosts file ` +
    `(ssh-keyscan -p ${addr.port} ${addr.host} >> KNOWN_HOSTS; --known-hosts KNOWN_HOSTS)`;
  if (policy.fingerprint !== undefined) {
    if (policy.fingerprint.replace(/=+$/, "") === fp) return undefined;
    return (
      `host key of ${name} is ${fp}, not the pinned ${policy.fingerprint}: refusing to connect ` + `(the testbed was re-installed, or someone is in the middle); if the change is expected, ${fix}`
    );
  }
  if (policy.knownHostsFile === undefined) {
    return `unknown host key ${fp} for ${name} and no known_hosts file or fingerprint given: ${fix}`;
  }
  let text: string;
  try {
    text = readFileSync(policy.knownHostsFile, "utf8");
  } catch (e) {
    return `cannot read known_hosts file ${policy.knownHostsFile} (${(e as NodeJS.ErrnoException).code}): ${fix}`;
  }
  const entries = parseKnownHosts(text).filter((e) => e.marker !== "@cert-authority" && e.matches(name));
  if (entries.some((e) => e.marker === "@revoked" && e.key.equals(key))) return `host key ${fp} of ${name} is revoked`;
  const known = entries.filter((e) => e.marker === "");
  if (known.some((e) => e.key.equals(key))) return undefined;
  if (known.length > 0) {
    return `host key of ${name} changed: it presents ${fp}, which is not the key in ${policy.knownHostsFile}: ` + `refusing to connect; if the change is expected, ${fix}`;
  }
  return `unknown host key ${fp} for ${name}: not in ${policy.knownHostsFile}; ${fix}`;
}

export interface SshOptions extends HostKeyPolicy {
  /** path of the private key (unencrypted, or decrypted with `passphrase`) */
  privateKeyFile: string;
  passphrase?: string | undefined;
  /** default 10 s */
  connectTimeoutMs?: number | undefined;
  /** default for exec() without its own timeout: 60 s */
  commandTimeoutMs?: number | undefined;
}

export interface ExecOptions {
  timeoutMs?: number | undefined;
  /** called with each complete stdout line as it arrives */
  onLine?: ((line: string) => void) | undefined;
  /** leave the remote stdin open (the driver treats its EOF as "controller gone") */
  keepStdinOpen?: boolean | undefined;
  /** aborting sends SIGTERM to the remote command and closes its channel */
  signal?: AbortSignal | undefined;
  /**
   * On a timeout or an abort, first only close the remote stdin and send SIGTERM, and keep reading
   * its output for this long (the driver cleans up, then prints its `cleaned` line) before the
   * channel is closed. Default 0: close at once.
   */
  stopGraceMs?: number | undefined;
}

export interface ExecResult {
  code: number | null;
  signal: string | undefined;
  stdout: string;
  stderr: string;
}

export class SshCommandTimeout extends Error {
  constructor(
    readonly command: string,
    readonly timeoutMs: number,
  ) {
    super(`testbed command timed out after ${timeoutMs / 1000} s: ${command.slice(0, 120)}`);
    this.name = "SshCommandTimeout";
  }
}

/** One authenticated connection to the testbed. */
export class SshSession {
  private constructor(
    private readonly client: Client,
    readonly address: TestbedAddress,
    private readonly commandTimeoutMs: number,
  ) {}

  static connect(address: TestbedAddress, options: SshOptions): Promise<SshSession> {
    let privateKey: Buffer;
    try {
      privateKey = readFileSync(options.privateKeyFile);
    } catch (e) {
      return Promise.reject(new InputError(`cannot read the SSH private key ${options.privateKeyFile} (${(e as NodeJS.ErrnoException).code})`, { field: "testbed-key" }));
    }
    const client = new Client();
    let refusal: string | undefined;
    return new Promise((resolve, reject) => {
      let settled = false;
      const fail = (err: Error) => {
        if (settled) return;
        settled = true;
        client.end();
        reject(err);
      };
      client.on("ready", () => {
        settled = true;
        resolve(new SshSession(client, address, options.commandTimeoutMs ?? 60_000));
      });
      client.on("error", (err: Error & { level?: string; code?: string }) => {
        fail(classifyConnectError(err, address, options, refusal));
      });
      client.on("close", () => fail(new InputError(`testbed ${address.url} closed the connection during the handshake${refusal ? `: ${refusal}` : ""}`)));
      try {
        client.connect({
          host: address.host,
          port: address.port,
          username: address.user,
          privateKey,
          passphrase: options.passphrase,
          readyTimeout: options.connectTimeoutMs ?? 10_000,
          // key authentication only: no agent, no password, no keyboard-interactive
          tryKeyboard: false,
          hostVerifier: (key: Buffer) => {
            refusal = checkHostKey(options, address, key);
            return refusal === undefined;
          },
          keepaliveInterval: 5_000,
          keepaliveCountMax: 3,
        });
      } catch (e) {
        // ssh2 throws synchronously for a key it cannot parse
        fail(new InputError(`cannot use the SSH private key ${options.privateKeyFile}: ${(e as Error).message}`, { field: "testbed-key" }));
      }
    });
  }

  /** Runs a command (build it with shellCommand()); resolves with its exit code, whatever it is. */
  exec(command: string, opts: ExecOptions = {}): Promise<ExecResult> {
    const timeoutMs = opts.timeoutMs ?? this.commandTimeoutMs;
    return new Promise((resolve, reject) => {
      this.client.exec(command, (err, channel: ClientChannel) => {
        if (err) return reject(err);
        let stdout = "";
        let stderr = "";
        let pending = "";
        let done = false;
        const finish = (fn: () => void) => {
          if (done) return;
          done = true;
          clearTimeout(timer);
          clearTimeout(graceTimer);
          opts.signal?.removeEventListener("abort", onAbort);
          fn();
        };
        let timedOut = false;
        let graceTimer: NodeJS.Timeout | undefined;
        const settle = (code: number | null, signal?: string) => finish(() => (timedOut ? reject(new SshCommandTimeout(command, timeoutMs)) : resolve({ code, signal, stdout, stderr })));
        // Closes the channel and settles at once: a dead connection may never confirm the close.
        const giveUp = () => {
          channel.close();
          settle(null);
        };
        const stopRemote = () => {
          try {
            channel.signal("TERM");
          } catch {
            // the channel may already be closing
          }
          // EOF on stdin is the driver's "controller gone": within the grace it cleans up and closes
          // the channel itself (the close event settles); past it, this side gives up.
          channel.end();
          graceTimer ??= setTimeout(giveUp, opts.stopGraceMs ?? 0);
        };
        const timer = setTimeout(() => {
          timedOut = true;
          stopRemote();
        }, timeoutMs);
        const onAbort = () => stopRemote();
        opts.signal?.addEventListener("abort", onAbort, { once: true });
        channel.on("data", (chunk: Buffer) => {
          const text = chunk.toString("utf8");
          stdout += text;
          if (opts.onLine) {
            pending += text;
            let nl: number;
            while ((nl = pending.indexOf("\n")) >= 0) {
              const line = pending.slice(0, nl);
              pending = pending.slice(nl + 1);
              opts.onLine(line);
            }
          }
        });
        channel.stderr.on("data", (chunk: Buffer) => {
          stderr += chunk.toString("utf8");
        });
        channel.on("close", (code: number | null, signal?: string) => {
          if (opts.onLine && pending) opts.onLine(pending);
          settle(code ?? null, signal);
        });
        if (!opts.keepStdinOpen) channel.end();
      });
    });
  }

  /** Writes a file on the testbed over SFTP. */
  upload(remotePath: string, data: string | Buffer, mode = 0o600): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new SshCommandTimeout(`sftp put ${remotePath}`, this.commandTimeoutMs)), this.commandTimeoutMs);
      this.client.sftp((err, sftp) => {
        if (err) {
          clearTimeout(timer);
          return reject(err);
        }
        sftp.writeFile(remotePath, data, { mode }, (werr) => {
          clearTimeout(timer);
          sftp.end();
          if (werr) reject(new Error(`sftp upload of ${remotePath} failed: ${werr.message}`));
          else resolve();
        });
      });
    });
  }

  close(): void {
    this.client.end();
  }
}

function classifyConnectError(err: Error & { level?: string; code?: string }, address: TestbedAddress, options: SshOptions, refusal: string | undefined): InputError {
  if (refusal !== undefined) return new InputError(refusal, { field: "testbed" });
  if (err.level === "client-authentication") {
    return new InputError(
      `testbed ${address.url} refused the key ${options.privateKeyFile} for user ${address.user}: add its public ` +
        `key to that user's authorized_keys on the testbed (or pass the right key with --testbed-key)`,
      { field: "testbed-key" },
    );
  }
  if (err.level === "client-timeout") {
    return new InputError(`testbed ${address.url} unreachable: no SSH handshake within ` + `${(options.connectTimeoutMs ?? 10_000) / 1000} s`, { field: "testbed" });
  }
  if (err.code && /^(ECONNREFUSED|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNRESET)$/.test(err.code)) {
    const hint = err.code === "ECONNREFUSED" ? " (is sshd running there? backends/mininet/setup-testbed.sh starts one)" : "";
    return new InputError(`testbed ${address.url} unreachable: ${err.code}${hint}`, { field: "testbed" });
  }
  if (/private key|passphrase|Unsupported key/i.test(err.message)) {
    return new InputError(`cannot use the SSH private key ${options.privateKeyFile}: ${err.message}`, { field: "testbed-key" });
  }
  return new InputError(`SSH connection to ${address.url} failed: ${err.message}`, { field: "testbed" });
}
