/**
 * tcp-fluid's message delays: how long a small message, a request/response exchange or a
 * connection set-up takes over the queues of the moment (propagation, queueing, serialisation at
 * the bottleneck, the host stack). Messages do not become flows: they never perturb the solve.
 */
import { Signal } from "../../kernel/index.ts";
import { blockedLinkError, type ExchangeOptions, type RouteFn } from "../network-model.ts";
import type { Router } from "../topology/routing.ts";
import type { Path } from "../topology/topology-types.ts";
import type { HostStack } from "./hoststack.ts";
import type { FluidSettings, LinkState } from "./state.ts";

export class MessageDelays {
  /**
   * `route` gives the model's routes; `tables`, when given, the same routes' links and
   * propagation without building a Path (ModelOptions.router)
   */
  constructor(
    private readonly settings: FluidSettings,
    private readonly links: LinkState,
    private readonly stack: HostStack,
    private readonly route: RouteFn,
    private readonly tables: Router | undefined,
    private readonly tcpHandshakeRtts: number,
  ) {
    this.headOfLine = settings.emulated && settings.p.gsoHeadOfLine > 0;
  }

  /** the host stack adds a wait (HostStack.waits is 0 otherwise: a set-up's thousands of messages skip it) */
  private readonly headOfLine: boolean;

  /** one-way delay of a small packet now: propagation + queueing on every link + half the host stack round trip */
  pathDelay(src: string, dst: string): number {
    const t = this.tables;
    const { links, stack } = this;
    const p = this.settings.p;
    if (t === undefined) {
      const path = this.route(src, dst);
      return path.propagation + links.sumDelay(path.links) + stack.waits(path.links, 0) + p.stackRtt / 2;
    }
    // the same links and sums, without building and keeping a Path per pair (formula (2) asks
    // for the latency to every key holder on every decision)
    const on = t.linksInto(src, dst, this.pathLinks);
    return t.propagation(src, dst) + links.sumDelay(on) + stack.waits(on, 0) + p.stackRtt / 2;
  }

  /** pathDelay's scratch list of links */
  private readonly pathLinks: number[] = [];

  /**
   * Request/response over the model's queues. Each leg is evaluated when it starts, so a
   * handshake or a request that waits behind a queue sees the queue of its own moment (legSeconds).
   */
  exchange(src: string, dst: string, requestBytes: number, responseBytes: number, opts: ExchangeOptions): Signal<number> {
    if (!(requestBytes >= 0) || !(responseBytes >= 0)) throw new RangeError("exchange bytes must be >= 0");
    const fwd = this.route(src, dst);
    const back = this.route(dst, src);
    const sim = this.settings.sim;
    const t0 = sim.now;
    const out = new Signal<number>();
    const legs = this.legs(opts);
    // one callback for all the legs, not one per leg (an MTD re-key is thousands of exchanges in a row)
    let leg = 0;
    const next = (): void => {
      if (leg === legs) {
        out.succeed(sim.now - t0);
        return;
      }
      sim.schedule(this.legSeconds(fwd, back, requestBytes, responseBytes, opts, leg++), next);
    };
    next();
    return out;
  }

  /** an exchange's legs: the connection set-up (a new connection only), the request, the response */
  legs(opts: ExchangeOptions): number {
    return opts.newConnection ? 3 : 2;
  }

  /**
   * The duration of leg `leg` (of `legs(opts)`) of an exchange over `fwd` and `back`, on the
   * queues of now: set-up (fixed host cost + handshakeRtts round trips), request (one-way delay +
   * serialisation at the bottleneck), response (the same back).
   */
  legSeconds(fwd: Path, back: Path, requestBytes: number, responseBytes: number, opts: ExchangeOptions, leg: number): number {
    const p = this.settings.p;
    const k = opts.newConnection ? leg : leg + 1;
    if (k === 0) return p.connectSetup + (opts.handshakeRtts ?? this.tcpHandshakeRtts) * p.handshakeScale * (this.oneWay(fwd, 0) + this.oneWay(back, 0));
    // on a new connection the request follows the SYN over the same links, the answer the SYN-ACK
    const follows = this.headOfLine && p.handshakeFollowUp > 0 && opts.newConnection;
    return k === 1 ? this.oneWay(fwd, requestBytes) + (follows ? this.stack.followUpWait(fwd.links) : 0) : this.oneWay(back, responseBytes) + (follows ? this.stack.followUpWait(back.links) : 0);
  }

  message(src: string, dst: string, bytes: number): Signal<number> {
    if (!(bytes >= 0)) throw new RangeError(`message bytes must be >= 0, got ${bytes}`);
    const d = this.oneWay(this.route(src, dst), bytes);
    const s = new Signal<number>();
    this.settings.sim.schedule(d, () => s.succeed(d));
    return s;
  }

  private oneWay(path: Path, bytes: number): number {
    const { topo, p, eff, emulated } = this.settings;
    let ser = 0;
    if (bytes > 0 && path.links.length > 0) {
      let worst = path.links[0]!;
      for (const l of path.links) if (topo.capacity[l]! < topo.capacity[worst]!) worst = l;
      const c = topo.capacity[worst]!;
      if (!(c > 0)) throw blockedLinkError(`a message over link ${this.links.name(worst)} can never be delivered: the link has no capacity`, worst);
      // packets join the FIFO behind the queue and leave at the link rate (wire bytes); an idle
      // shaped link lets a burst through at once
      const burst = emulated && this.links.delay[worst] === 0 ? p.burstBytes : 0;
      ser = (Math.max(0, bytes / eff - burst) * 8) / c;
    }
    const queued = path.propagation + this.links.sumDelay(path.links);
    if (!this.headOfLine) return queued + p.stackRtt / 2 + ser;
    // a message's frames (payload + headers) enter every link of its path
    const wire = bytes + p.ackBytesPerSegment * 2 * Math.max(1, Math.ceil(bytes / p.mss));
    return queued + this.stack.waits(path.links, wire) + p.stackRtt / 2 + ser;
  }
}
