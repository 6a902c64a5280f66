/**
 * Max-min fair shares outside the elastic solver: the shares of constant-rate (udp) flows and
 * the water level a new elastic flow would reach on one link (what messages are charged).
 */

/** relative tolerance of the certificate checks (rates are ~1e3..1e11 bit/s) */
export const REL = 1e-9;

/**
 * Progressive filling of udp flows: flow i crosses `links[i]` and asks for `want[i]` bit/s; each
 * gets what it asks unless udp alone oversubscribes a link, then the flows there share it
 * max-min (each capped at what it asks). Returns the rates, in the flows' order.
 */
export function udpShares(links: readonly Int32Array[], want: readonly number[], capacity: Float64Array): Float64Array {
  const n = links.length;
  const rate = new Float64Array(n);
  const frozen = new Uint8Array(n);
  const remCap = new Map<number, number>();
  const users = new Map<number, number>();
  for (const ls of links)
    for (const l of ls) {
      remCap.set(l, capacity[l]!);
      users.set(l, (users.get(l) ?? 0) + 1);
    }
  let left = n;
  while (left > 0) {
    // next event of the filling: a link's fair share or a flow's requested rate, whichever is lower
    let level = Infinity;
    for (const [l, c] of remCap) {
      const u = users.get(l)!;
      if (u > 0) level = Math.min(level, c / u);
    }
    for (let i = 0; i < n; i++) if (!frozen[i]) level = Math.min(level, want[i]!);
    level = Math.max(0, level);
    for (let i = 0; i < n; i++) {
      if (frozen[i]) continue;
      let freeze = want[i]! <= level;
      for (const l of links[i]!) if (remCap.get(l)! / users.get(l)! <= level * (1 + REL)) freeze = true;
      if (!freeze) continue;
      frozen[i] = 1;
      left--;
      rate[i] = level;
      for (const l of links[i]!) {
        remCap.set(l, remCap.get(l)! - level);
        users.set(l, users.get(l)! - 1);
      }
    }
  }
  return rate;
}

/**
 * The max-min level a new elastic flow reaches on a link of elastic capacity `capacity` whose
 * flows run at `rates` (flows below the level keep their rate). Sorts `rates` in place.
 */
export function waterLevel(rates: Float64Array, capacity: number): number {
  rates.sort();
  const n = rates.length;
  let remaining = capacity;
  let k = n + 1;
  for (let j = 0; j < n; j++) {
    if (rates[j]! * k >= remaining) break;
    remaining -= rates[j]!;
    k--;
  }
  return Math.max(0, remaining / k);
}
