/**
 * tcp-fluid's message delays: how long a small message, a request/response exchange or a
 * connection set-up takes over the queues of the moment (propagation, queueing, serialisation at
 * the bottleneck, the host stack). Messages do not become flows: they never perturb the solve.
 */
import { blockedLinkError } from "../model.ts";
import { Signal } from "../../kernel/index.ts";
import type { ExchangeOptions } from "../model.ts";
import type { Path } from "../topology/types.ts";
import { QueueSolver } from "./solver.ts";

export class MessageDelays extends QueueSolver {
  /** one-way delay of a small packet now: propagation + queueing on every link + half the host stack round trip */
  pathDelay(src: string, dst: string): number {
    const t = this.tables;
    if (t === undefined) {
      const path = this.route(src, dst);
      return path.propagation + this.sumDelay(path.links) + this.waits(path.links, 0) + this.p.stackRtt / 2;
    }
    // the same links and sums, without building and keeping a Path per pair (formula (2) asks
    // for the latency to every key holder on every decision)
    const links = t.linksInto(src, dst, this.pathLinks);
    return t.propagation(src, dst) + this.sumDelay(links) + this.waits(links, 0) + this.p.stackRtt / 2;
  }

  /** pathDelay's scratch list of links */
  private readonly pathLinks: number[] = [];

  /**
   * Request/response over the model's queues. Each leg is evaluated when it starts, so a
   * handshake or a request that waits behind a queue sees the queue of its own moment:
   * set-up (fixed host cost + handshakeRtts round trips), request (one-way delay + serialisation
   * at the bottleneck), response (the same back).
   */
  exchange(src: string, dst: string, requestBytes: number, responseBytes: number, opts: ExchangeOptions): Signal<number> {
    if (!(requestBytes >= 0) || !(responseBytes >= 0)) throw new RangeError("exchange bytes must be >= 0");
    const fwd = this.route(src, dst);
    const back = this.route(dst, src);
    const t0 = this.sim.now;
    const out = new Signal<number>();
    const legs: Array<() => number> = [];
    if (opts.newConnection) {
      const hs = (opts.handshakeRtts ?? this.params.tcpHandshakeRtts) * this.p.handshakeScale;
      legs.push(() => this.p.connectSetup + hs * (this.oneWay(fwd, 0) + this.oneWay(back, 0)));
    }
    legs.push(() => this.oneWay(fwd, requestBytes));
    legs.push(() => this.oneWay(back, responseBytes));
    const run = (k: number): void => {
      if (k === legs.length) {
        out.succeed(this.sim.now - t0);
        return;
      }
      this.sim.schedule(legs[k]!(), () => run(k + 1));
    };
    run(0);
    return out;
  }

  message(src: string, dst: string, bytes: number): Signal<number> {
    if (!(bytes >= 0)) throw new RangeError(`message bytes must be >= 0, got ${bytes}`);
    const d = this.oneWay(this.route(src, dst), bytes);
    const s = new Signal<number>();
    this.sim.schedule(d, () => s.succeed(d));
    return s;
  }

  protected oneWay(path: Path, bytes: number): number {
    let ser = 0;
    if (bytes > 0 && path.links.length > 0) {
      let worst = path.links[0]!;
      for (const l of path.links) if (this.topo.capacity[l]! < this.topo.capacity[worst]!) worst = l;
      const c = this.topo.capacity[worst]!;
      if (!(c > 0)) throw blockedLinkError(`a message over link ${this.linkName(worst)} can never be delivered: the link has no capacity`, worst);
      // packets join the FIFO behind the queue and leave at the link rate (wire bytes); an idle
      // shaped link lets a burst through at once
      const burst = this.emulated && this.delay[worst] === 0 ? this.p.burstBytes : 0;
      ser = (Math.max(0, bytes / this.eff - burst) * 8) / c;
    }
    // a message's frames (payload + headers) enter every link of its path
    const wire = bytes + this.p.ackBytesPerSegment * 2 * Math.max(1, Math.ceil(bytes / this.p.mss));
    return path.propagation + this.sumDelay(path.links) + this.waits(path.links, wire) + this.p.stackRtt / 2 + ser;
  }
}
