/**
 * The manager's re-key one holder after the other, for a network model whose exchange is
 * analytic (`exchangeSeconds`) and sessions without host time (`sshCommand` 0): the events and
 * their order of setUp's `sequential` loop, without a signal, a closure and a process wake-up
 * per session. A data center re-keys thousands of holders before every migration.
 *
 * `sequential` computes an exchange's duration when its process resumes, waits on the exchange's
 * signal, and resumes (an event of 0 s, behind whatever else is due at that instant) when it
 * fires. Here the exchange's own event computes the next exchange at once when nothing else is
 * due at that instant (`Simulator.quiet`: the wake-up would run next, so nothing can come in
 * between). Otherwise the chain schedules an event of 0 s of its own where the process's wake-up
 * would be, and computes the exchange there; should that raise an error, it resumes the process
 * in that event, which computes the exchange itself (so the error is raised in the process, at
 * the event where `sequential` raises it). The durations are the same numbers, added to the
 * clock by the same `schedule`. (Set-ups that start at the same instant end their sessions at the
 * same instants: a k=32 mtd-random run has 737,000 such sessions.)
 */
import type { Process, ProcessBody, Simulator } from "../kernel/index.ts";
import { Signal } from "../kernel/index.ts";
import type { ExchangeOptions, NetworkModel } from "../network/network-model.ts";
import type { Path } from "../network/topology/topology-types.ts";
import type { CostParams } from "../formats/runspec.ts";
import type { SetupMessage } from "../policies/policy-types.ts";

/**
 * The routes of each message list's exchanges (forward at 2i, back at 2i + 1), by model: the
 * decisions of a run share a list, and a route looked up by host names costs more than the rest
 * of a session. Filled as the exchanges happen, so a missing route fails where `exchange` fails.
 */
const routeCache = new WeakMap<NetworkModel, WeakMap<readonly SetupMessage[], Array<Path | undefined>>>();

function routesOf(model: NetworkModel, messages: readonly SetupMessage[]): Array<Path | undefined> {
  let byList = routeCache.get(model);
  if (!byList) routeCache.set(model, (byList = new WeakMap()));
  let routes = byList.get(messages);
  if (!routes) byList.set(messages, (routes = new Array<Path | undefined>(2 * messages.length)));
  return routes;
}

/** setUp's `sequential` for such a model and sessions, inline in the migration's process */
export function* chainedSetUp(sim: Simulator, model: NetworkModel, costs: CostParams, messages: readonly SetupMessage[]): ProcessBody<void> {
  const chain = new SetupChain(sim, model, costs, messages);
  for (let next = 0; next < messages.length; ) next = (yield chain.from(next)) as number;
}

class SetupChain {
  private readonly opts: ExchangeOptions;
  private readonly routes: Array<Path | undefined>;
  /** the process running the chain (undefined outside one: it is then resumed by `handBack`) */
  private readonly process: Process<unknown> | undefined;
  /**
   * the message whose exchange is under way (or is to be computed by `resume`), its leg under way,
   * and an exchange's legs (NetworkModel.exchangeLegs)
   */
  private at = 0;
  private leg = 0;
  private readonly legs: number;
  /** fires with the index of the message the process computes next (the length: all done) */
  private handBack = new Signal<number>();

  constructor(
    private readonly sim: Simulator,
    private readonly model: NetworkModel,
    private readonly costs: CostParams,
    private readonly messages: readonly SetupMessage[],
  ) {
    if (!model.exchangeSeconds) throw new Error("SetupChain needs a model with exchangeSeconds");
    this.opts = { newConnection: true, handshakeRtts: costs.sshHandshakeRtts };
    this.routes = routesOf(model, messages);
    this.legs = model.exchangeLegs?.(this.opts) ?? 1;
    this.process = sim.activeProcess;
  }

  /** Starts message `i`'s exchange now; the signal fires when the process is to go on. */
  from(i: number): Signal<number> {
    this.handBack = new Signal<number>();
    this.at = i;
    this.leg = 0;
    this.sim.schedule(this.seconds(i), wake, this);
    return this.handBack;
  }

  private seconds(i: number): number {
    const { model, routes } = this;
    const msg = this.messages[i]!;
    const fwd = (routes[2 * i] ??= model.route(msg.from, msg.to));
    const back = (routes[2 * i + 1] ??= model.route(msg.to, msg.from));
    return model.exchangeSeconds!(fwd, back, msg.bytes, this.costs.controlBytes, this.opts, this.leg);
  }

  /** message `at`'s leg `leg` is over */
  next(): void {
    // (the next leg, timed now as `exchange` times it)
    if (++this.leg < this.legs) {
      this.sim.schedule(this.seconds(this.at), wake, this);
      return;
    }
    const i = this.at + 1;
    if (i === this.messages.length) {
      this.handBack.succeed(i);
      return;
    }
    if (!this.sim.quiet()) {
      if (!this.process) {
        this.handBack.succeed(i);
        return;
      }
      // (where the process's wake-up would be: behind the events due now)
      this.at = i;
      this.leg = 0;
      this.sim.schedule(0, resume, this);
      return;
    }
    let d: number;
    this.leg = 0;
    try {
      d = this.seconds(i);
    } catch {
      // the process computes it again and raises the error in its own step
      this.handBack.succeed(i);
      return;
    }
    this.at = i;
    this.sim.schedule(d, wake, this);
  }

  /** the process's wake-up before message `at`'s exchange, in its place */
  resume(): void {
    const i = this.at;
    let d: number;
    try {
      d = this.seconds(i);
    } catch {
      // the process, resumed here, computes it again and raises the error in its own step
      this.process!.step(i);
      return;
    }
    this.sim.schedule(d, wake, this);
  }
}

function wake(chain: SetupChain): void {
  chain.next();
}

function resume(chain: SetupChain): void {
  chain.resume();
}
