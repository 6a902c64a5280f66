/**
 * Picks the network model a run asks for. Both models implement NetworkModel; callers never
 * construct one directly, so adding a model touches only this file.
 */
import type { Simulator } from "../kernel/index.ts";
import { MaxMinModel, type ModelOptions } from "./maxmin.ts";
import type { NetworkModel, NetworkParams } from "./model.ts";
import type { CompiledTopology } from "./types.ts";

export type { ModelOptions, RouteFn } from "./maxmin.ts";

/** Models this build provides (the CLI and the benchmark offer only these). */
export const AVAILABLE_MODELS: ReadonlyArray<NetworkParams["model"]> = ["max-min"];

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
      throw new Error("network model tcp-fluid is not available in this build yet (only max-min is); use model: max-min");
    default:
      throw new Error(`unknown network model ${String((params as { model: unknown }).model)}`);
  }
}
