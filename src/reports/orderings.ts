/**
 * The orderings a published table establishes, and whether a simulation keeps them. An ordering
 * is significant in the paper when its two 95% intervals do not overlap (17.1 ± 0.16 below
 * 18.6 ± 0.91); an ordering its text states but its intervals do not separate is listed too,
 * marked so. The simulation holds an ordering when its own intervals are apart in the same
 * direction and its difference of means is at least the least difference the paper's intervals
 * leave (17.69 - 17.26 = 0.43 s above): 1.6 ms between two intervals of a microsecond is the
 * right sign, not the paper's finding. Otherwise it is not held: the difference too small,
 * the simulated intervals overlapping (equal means included), or reversed (apart the other way).
 */
import type { Stats } from "../core/stats.ts";
import type { PaperRow } from "./summary.ts";

export type OrderingStatus = "held" | "too small" | "overlap" | "reversed";

export interface Ordering {
  /** the policy the paper finds faster, and the slower one */
  faster: PaperRow;
  slower: PaperRow;
  /** the paper's intervals are apart; false: its text states the ordering, its intervals do not separate it */
  significant: boolean;
  status: OrderingStatus;
  /** the least difference (slower - faster) the paper's intervals leave; <= 0 when they overlap */
  paperGap: number;
  /** the simulated difference of means (slower - faster) */
  simulatedGap: number;
}

interface Interval {
  low: number;
  high: number;
}

const published = (p: { mean: number; ci: number }): Interval => ({ low: p.mean - p.ci, high: p.mean + p.ci });
/** the interval the report shows (Student t or bootstrap); none (n < 2): the mean */
const simulated = (s: Stats): Interval => (Number.isNaN(s.low) ? { low: s.mean, high: s.mean } : { low: s.low, high: s.high });

/** `a` lies wholly below `b`. */
function below(a: Interval, b: Interval): boolean {
  return a.high < b.low;
}

/**
 * Every pair of rows the paper orders significantly, and the pairs in `stated` (faster, slower
 * policy, as the paper's text claims them), in the rows' order.
 */
export function paperOrderings(rows: readonly PaperRow[], stated: ReadonlyArray<readonly [string, string]> = []): Ordering[] {
  const out: Ordering[] = [];
  for (let i = 0; i < rows.length; i++) {
    for (let j = i + 1; j < rows.length; j++) {
      const [faster, slower] = rows[i]!.paper.mean <= rows[j]!.paper.mean ? [rows[i]!, rows[j]!] : [rows[j]!, rows[i]!];
      const significant = below(published(faster.paper), published(slower.paper));
      if (!significant && !stated.some(([f, s]) => f === faster.policy && s === slower.policy)) continue;
      const [f, s] = [simulated(faster.simulated), simulated(slower.simulated)];
      const paperGap = published(slower.paper).low - published(faster.paper).high;
      const simulatedGap = slower.simulated.mean - faster.simulated.mean;
      const status: OrderingStatus = below(f, s) ? (simulatedGap >= paperGap ? "held" : "too small") : below(s, f) ? "reversed" : "overlap";
      out.push({ faster, slower, significant, status, paperGap, simulatedGap });
    }
  }
  return out;
}
