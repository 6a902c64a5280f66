/**
 * The network as data: a topology (what the YAML says, in base units) and its compiled form
 * (typed arrays indexed by node and directed link, what models and routing read on hot paths).
 */

/** One full-duplex link; each direction has its own capacity and queue. */
export interface LinkSpec {
  a: string;
  b: string;
  /** bits per second, a -> b */
  capacity: number;
  /** bits per second, b -> a (equal to `capacity` unless the file says otherwise) */
  capacityBack: number;
  /** one-way propagation delay, seconds */
  latency: number;
  /** drop-tail queue size per direction, packets */
  queue: number;
  /** bytes */
  mtu: number;
  /** 1-based line in the source file, for error messages (absent for generated links) */
  line?: number | undefined;
}

export interface Topology {
  name: string;
  hosts: string[];
  switches: string[];
  links: LinkSpec[];
  /** file the topology came from, for error messages */
  file?: string | undefined;
}

/**
 * Compiled topology. Node ids: hosts first (0..hosts-1), then switches. Directed link d of
 * undirected link i: d = 2i is a -> b, d = 2i + 1 is b -> a.
 */
export interface CompiledTopology {
  readonly topology: Topology;
  readonly nodeCount: number;
  readonly hostCount: number;
  readonly names: readonly string[];
  readonly index: ReadonlyMap<string, number>;
  readonly isHost: (node: number) => boolean;
  /** per directed link */
  readonly from: Int32Array;
  readonly to: Int32Array;
  readonly capacity: Float64Array;
  readonly latency: Float64Array;
  readonly queueBytes: Float64Array;
  readonly mtu: Float64Array;
  /** adjacency in CSR form: out-links of node n are adjLinks[adjStart[n] .. adjStart[n+1]) */
  readonly adjStart: Int32Array;
  readonly adjLinks: Int32Array;
  /** Mininet-style port name of the sending end of a directed link, e.g. `s1-eth2` */
  readonly portName: readonly string[];
  /** directed link id for a port name (the direction leaving that port) */
  readonly portIndex: ReadonlyMap<string, number>;
}

/** A route between two nodes. */
export interface Path {
  readonly nodes: readonly number[];
  /** directed link ids, in order */
  readonly links: readonly number[];
  /** number of links */
  readonly hops: number;
  /** number of switches on the path */
  readonly switches: number;
  /** one-way propagation delay, seconds */
  readonly propagation: number;
  /** smallest capacity on the path, bits per second */
  readonly bottleneck: number;
}
