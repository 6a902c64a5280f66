/** A topology file read from disk (the model's loader takes text or a parsed document: it does no I/O). */
import { loadTopology } from "../network/topology/load.ts";
import type { Topology } from "../network/topology/topology-types.ts";
import { readYamlFile } from "./read-yaml.ts";

export function loadTopologyFile(file: string, seed = 1): Topology {
  return loadTopology(readYamlFile(file), [], undefined, seed);
}
