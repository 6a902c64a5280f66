/**
 * Moving checkpoint files: `ssh` (the JoWUA secure model: an SSH connection costing
 * sshHandshakeRtts round trips, each paying the path's current RTT with queueing, then SFTP as an
 * elastic flow capped at the cipher throughput) or plain `tcp` (the model's TCP handshake, then
 * the folder as one tar stream in an uncapped flow). The RESTART command of the protocol rides on
 * the connection set-up exchange.
 */
import type { ProcessBody, Waitable } from "../kernel/index.ts";
import type { Flow, FlowResult, NetworkModel } from "../network/network-model.ts";
import type { CostParams, Transport } from "../formats/runspec.ts";

/** Opens the source -> destination connection and sends RESTART; returns the seconds it took. */
export function* openConnection(model: NetworkModel, costs: CostParams, transport: Transport, src: string, dst: string): ProcessBody<number> {
  const t0 = model.sim.now;
  const handshakeRtts = transport === "ssh" ? costs.sshHandshakeRtts : model.params.tcpHandshakeRtts;
  yield model.exchange(src, dst, costs.controlBytes, costs.controlBytes, { newConnection: true, handshakeRtts });
  return model.sim.now - t0;
}

/**
 * A command over a new connection, answered by an acknowledgement (MIGRATE, SUCCESS, the lazy-pages
 * daemon's connection to the page server): over a loaded path it pays the handshake and both
 * directions' queues, not one way.
 */
export function command(model: NetworkModel, costs: CostParams, from: string, to: string): Waitable<number> {
  return model.exchange(from, to, costs.controlBytes, costs.controlBytes, { newConnection: true });
}

/** A TCP connection that carries several transfers in turn: the flow of its latest (FlowSpec.continues). */
export interface Connection {
  last: Flow | undefined;
}

/** tar's block and record sizes (POSIX ustar; Python's tarfile writes a stream in records of 20 blocks) */
const TAR_BLOCK = 512;
const TAR_RECORD = 20 * TAR_BLOCK;

/**
 * The bytes of the tar stream the `tcp` transport sends for a folder of `files` files holding
 * `bytes`: a header block per file and one for the folder, each file padded to a whole block (half a
 * block on average), two zero blocks at the end, the stream padded to a whole record (half a record
 * on average). A 43 kB folder of 22 files (post-copy's minimal image) is 66 kB on the wire.
 */
export function tarStreamBytes(bytes: number, files: number): number {
  return bytes + (files + 1) * TAR_BLOCK + files * (TAR_BLOCK / 2) + 2 * TAR_BLOCK + TAR_RECORD / 2;
}

/**
 * Sends `bytes` (already on-the-wire bytes) of a folder of `files` files as one elastic flow
 * (`files` 0: a byte stream, not a folder); returns the seconds it took. Over `connection` it
 * continues that connection's latest transfer, and becomes it.
 */
export function* sendBytes(
  model: NetworkModel,
  costs: CostParams,
  transport: Transport,
  src: string,
  dst: string,
  bytes: number,
  label: string,
  progress: { flow: Flow | undefined },
  files = costs.checkpointFiles,
  connection?: Connection,
): ProcessBody<number> {
  const t0 = model.sim.now;
  if (bytes <= 0) return 0;
  // SFTP (scp -r, OpenSSH >= 9) waits for the server's answers to its per-file requests (open,
  // close, attributes...) one after the other: each pays the round trip of the moment, which a
  // loaded reverse path makes long (docs/migration.md, docs/calibration.md). The files go in
  // directory order; the bulk of the bytes is one file (the memory pages), on average halfway.
  const exchanges = transport === "ssh" ? Math.round(files * costs.sftpFileRtts) : 0;
  const perFile = (n: number): ProcessBody<void> =>
    (function* () {
      for (let i = 0; i < n; i++) yield model.exchange(src, dst, costs.controlBytes, costs.controlBytes, { newConnection: false });
      const cpu = (n / Math.max(1, exchanges)) * files * costs.sftpFileCpu;
      if (cpu > 0) yield cpu;
    })();
  const before = Math.floor(exchanges / 2);
  if (before > 0) yield* perFile(before);
  const flow = model.startFlow({
    src,
    dst,
    kind: "tcp",
    // scp's SFTP writes carry the files' bytes; the tcp transport frames the folder as a tar stream
    bytes: transport === "tcp" && files > 0 ? tarStreamBytes(bytes, files) : bytes,
    label,
    maxRate: transport === "ssh" ? costs.sshCipherRate : undefined,
    continues: connection?.last,
  });
  if (connection) connection.last = flow;
  progress.flow = flow;
  const r = (yield flow.done) as FlowResult;
  progress.flow = undefined;
  if (r.stopped) throw new Error(`checkpoint flow ${label} was stopped before it delivered its bytes`);
  if (exchanges - before > 0) yield* perFile(exchanges - before);
  return model.sim.now - t0;
}
