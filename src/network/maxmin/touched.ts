/**
 * The workspace of max-min's solver (lmm.ts): its numbers for each link of T, the links a solve
 * touches, kept by the link's place in T (the order in which it joined) so that a solve reads a
 * few dense arrays of T's size.
 */

/** places of T carved from the model's arena; more grow in fresh arrays */
export const INITIAL_T = 64;

/** the solver's numbers for each link of T, by its place in T */
export const T_FIELDS = {
  /** the link */
  link: Int32Array,
  /** its elastic flows, elastic capacity and certificate tolerance (constant during a solve) */
  n: Int32Array,
  elastic: Float64Array,
  tol: Float64Array,
  /** filling: capacity left and unfrozen S flows on the link */
  rem: Float64Array,
  cnt: Int32Array,
  /**
   * filling: the rates of the link's flows outside S and its flows in S, kept from one round to
   * the next while none of its flows joins S (`stale` says it must be counted again); with them
   * the fastest flow outside S, the slowest flow outside S frozen at this link (Infinity when
   * none) and the flows outside S never frozen
   */
  outside: Float64Array,
  inside: Int32Array,
  stale: Uint8Array,
  fixedMax: Float64Array,
  fixedLowest: Float64Array,
  fixedUnset: Int32Array,
  /**
   * filling: the share at which the link froze S flows, the filling that did (`fills`), and the
   * fastest of its S flows' new rates
   */
  share: Float64Array,
  froze: Uint32Array,
  sMax: Float64Array,
  /**
   * verification: the link's load and fastest flow with S at its new rates; the load is summed
   * only when a check needs it (see `overfilled`) and kept, with the solve it is of, from one
   * round to the next while none of the link's flows changes rate (the sum is then the same,
   * term for term)
   */
  load: Float64Array,
  fastest: Float64Array,
  measured: Uint32Array,
  /** verification: the pass in which a flow outside S that crosses the link broke its certificate */
  flagged: Uint32Array,
} as const;
