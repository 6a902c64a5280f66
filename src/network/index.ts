/**
 * Picks the network model a run asks for. Both models implement NetworkModel; callers never
 * construct one directly: a new model is its name in MODEL_NAMES (model.ts) and a factory here.
 */
import type { Simulator } from "../kernel/index.ts";
import { MaxMinModel } from "./maxmin/maxmin-model.ts";
import { TcpFluidModel } from "./tcpfluid/tcpfluid-model.ts";
import type { ModelName, ModelOptions, NetworkModel, NetworkParams } from "./network-model.ts";
import type { CompiledTopology } from "./topology/topology-types.ts";

export type { ModelOptions, RouteFn } from "./network-model.ts";

type ModelFactory = (sim: Simulator, topo: CompiledTopology, params: NetworkParams, options: ModelOptions) => NetworkModel;

/** One factory per name of MODEL_NAMES (the Record type makes a missing one a compile error). */
const MODELS: Record<ModelName, ModelFactory> = {
  "max-min": (sim, topo, params, options) => new MaxMinModel(sim, topo, params, options),
  "tcp-fluid": (sim, topo, params, options) => new TcpFluidModel(sim, topo, params, options),
};

export function createNetworkModel(sim: Simulator, topo: CompiledTopology, params: NetworkParams, options: ModelOptions = {}): NetworkModel {
  const factory = MODELS[params.model];
  if (!factory) throw new Error(`unknown network model ${String(params.model)}`);
  return factory(sim, topo, params, options);
}
