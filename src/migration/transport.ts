/**
 * Moving checkpoint files: `ssh` (the JoWUA secure model: an SSH connection costing
 * sshHandshakeRtts round trips, each paying the path's current RTT with queueing, then SFTP as an
 * elastic flow capped at the cipher throughput) or plain `tcp` (the model's TCP handshake, then
 * an uncapped flow). The RESTART command of the protocol rides on the connection set-up exchange.
 */
import type { ProcessBody } from "../kernel/index.ts";
import type { Flow, FlowResult, NetworkModel } from "../network/model.ts";
import type { CostParams, Transport } from "../runspec.ts";

/** Opens the source -> destination connection and sends RESTART; returns the seconds it took. */
export function* openConnection(model: NetworkModel, costs: CostParams, transport: Transport, src: string, dst: string): ProcessBody<number> {
  const t0 = model.sim.now;
  const handshakeRtts = transport === "ssh" ? costs.sshHandshakeRtts : model.params.tcpHandshakeRtts;
  yield model.exchange(src, dst, costs.controlBytes, costs.controlBytes, { newConnection: true, handshakeRtts });
  return model.sim.now - t0;
}

/** Sends `bytes` (already on-the-wire bytes) as one elastic flow; returns the seconds it took. */
export function* sendBytes(
  model: NetworkModel, costs: CostParams, transport: Transport, src: string, dst: string, bytes: number, label: string,
  progress: { flow: Flow | undefined },
): ProcessBody<number> {
  const t0 = model.sim.now;
  if (bytes <= 0) return 0;
  if (transport === "ssh") {
    // SFTP (scp -r, OpenSSH >= 9) waits for the server's answers to its per-file requests
    // (open, close, attributes...) one after the other: each pays the round trip of the moment,
    // which a loaded reverse path makes long (docs/migration.md, docs/calibration.md).
    const exchanges = Math.round(costs.checkpointFiles * costs.sftpFileRtts);
    for (let i = 0; i < exchanges; i++) {
      yield model.exchange(src, dst, costs.controlBytes, costs.controlBytes, { newConnection: false });
    }
    const cpu = costs.checkpointFiles * costs.sftpFileCpu;
    if (cpu > 0) yield cpu;
  }
  const flow = model.startFlow({
    src, dst, kind: "tcp", bytes, label,
    maxRate: transport === "ssh" ? costs.sshCipherRate : undefined,
  });
  progress.flow = flow;
  const r = (yield flow.done) as FlowResult;
  progress.flow = undefined;
  if (r.stopped) throw new Error(`checkpoint flow ${label} was stopped before it delivered its bytes`);
  return model.sim.now - t0;
}
