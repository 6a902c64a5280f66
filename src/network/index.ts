/**
 * Picks the network model a run asks for. Both models implement NetworkModel; callers never
 * construct one directly, so adding a model touches only this file.
 */
import type { Simulator } from "../kernel/index.ts";
import { MaxMinModel } from "./maxmin/model.ts";
import { TcpFluidModel } from "./tcpfluid/model.ts";
import type { ModelOptions, NetworkModel, NetworkParams } from "./model.ts";
import type { CompiledTopology } from "./topology/types.ts";

export type { ModelOptions, RouteFn } from "./model.ts";

/** Models this build provides (the CLI and the benchmark offer only these). */
export const AVAILABLE_MODELS: ReadonlyArray<NetworkParams["model"]> = ["max-min", "tcp-fluid"];

export function createNetworkModel(
  sim: Simulator,
  topo: CompiledTopology,
  params: NetworkParams,
  options: ModelOptions = {},
): NetworkModel {
  switch (params.model) {
    case "max-min":
      return new MaxMinModel(sim, topo, params, options);
    case "tcp-fluid":
      return new TcpFluidModel(sim, topo, params, options);
    default:
      throw new Error(`unknown network model ${String((params as { model: unknown }).model)}`);
  }
}
