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
 * between). Otherwise it hands back to the process, whose wake-up then takes the place the
 * process's wake-up has in `sequential`, and the process computes that exchange itself (so an
 * error is raised where `sequential` raises it). The durations are the same numbers, added to
 * the clock by the same `schedule`.
 */
import type { ProcessBody, Simulator } from "../kernel/index.ts";
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
  /** the message whose exchange is under way, its leg under way, and an exchange's legs (NetworkModel.exchangeLegs) */
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
    if (i === this.messages.length || !this.sim.quiet()) {
      this.handBack.succeed(i);
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
}

function wake(chain: SetupChain): void {
  chain.next();
}
