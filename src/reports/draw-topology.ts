/**
 * Draws a topology as SVG for people to look at: switches as boxes, hosts as circles, links
 * coloured and sized by capacity (log scale, with a legend) and labelled when there are few.
 *
 * Layout (deterministic, no randomness): switch rows by hop distance from the central switches
 * (those of least eccentricity: the root of a tree, the core of a fat-tree), hosts on the bottom
 * row in listed order; a chain of switches (linear) stays on one row. Rows are ordered bottom-up
 * by the barycentre of each node's neighbours already placed, which keeps subtrees and pods together.
 */
import { InputError } from "../core/errors.ts";
import { formatRate } from "../core/units.ts";
import type { CompiledTopology } from "../network/topology/topology-types.ts";

const MAX_DRAWN_NODES = 2000;

const HOST_GAP = 56;
const ROW_GAP = 110;
const MARGIN = 60;
const SWITCH_W = 44;
const SWITCH_H = 22;
const HOST_R = 14;
const CHAIN_GAP = SWITCH_W + 76;
const MAX_LABELLED_LINKS = 80;

/** Red (low capacity: the bottlenecks stand out) through orange and green to dark blue (high). */
const STOPS: Array<[number, number, number]> = [
  [215, 48, 39],
  [240, 130, 40],
  [110, 165, 60],
  [44, 123, 182],
  [35, 55, 130],
];

export function drawTopology(t: CompiledTopology): string {
  const N = t.nodeCount;
  const H = t.hostCount;
  if (N > MAX_DRAWN_NODES) {
    throw new InputError(`cannot draw ${N} nodes legibly (expected at most ${MAX_DRAWN_NODES}); draw a smaller instance of the generator`, { field: "--draw" });
  }
  const neighbours: number[][] = Array.from({ length: N }, () => []);
  for (let d = 0; d < t.from.length; d++) neighbours[t.from[d]!]!.push(t.to[d]!);

  const { level, chain } = switchLevels(t, neighbours);
  let maxLevel = 0;
  for (let n = H; n < N; n++) maxLevel = Math.max(maxLevel, level[n]!);
  const hostRow = maxLevel + 1;
  for (let h = 0; h < H; h++) level[h] = hostRow;

  const x = new Float64Array(N);
  if (chain) placeChain(chain, t, neighbours, x);
  else placeLayers(t, neighbours, level, hostRow, x);

  let minX = Infinity;
  let maxX = -Infinity;
  for (let n = 0; n < N; n++) {
    minX = Math.min(minX, x[n]!);
    maxX = Math.max(maxX, x[n]!);
  }
  const width = Math.max(640, maxX - minX + 2 * MARGIN);
  const legendH = 70;
  // Room above the top row for links that arc between two of its nodes.
  let topPad = 0;
  for (let d = 0; d < t.from.length; d += 2) {
    const [a, b] = [t.from[d]!, t.to[d]!];
    if (level[a] === 0 && level[b] === 0 && Math.abs(x[a]! - x[b]!) > CHAIN_GAP + 1) topPad = Math.max(topPad, bulgeOf(x[a]!, x[b]!));
  }
  const height = hostRow * ROW_GAP + 2 * MARGIN + legendH + topPad + 14;
  const px = (n: number): number => x[n]! - minX + MARGIN + (width - (maxX - minX + 2 * MARGIN)) / 2;
  const py = (n: number): number => MARGIN + 24 + topPad + level[n]! * ROW_GAP;

  let cmin = Infinity;
  let cmax = -Infinity;
  for (const c of t.capacity) {
    cmin = Math.min(cmin, c);
    cmax = Math.max(cmax, c);
  }
  const scale = (c: number): number => (cmax > cmin ? (Math.log(c) - Math.log(cmin)) / (Math.log(cmax) - Math.log(cmin)) : 1);

  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${r1(width)}" height="${r1(height)}" viewBox="0 0 ${r1(width)} ${r1(height)}" font-family="DejaVu Sans, Verdana, sans-serif">`);
  out.push(`<rect width="100%" height="100%" fill="#ffffff"/>`);
  out.push(`<text x="${MARGIN / 2}" y="26" font-size="15" font-weight="bold">${esc(t.topology.name)}</text>`);
  out.push(`<text x="${MARGIN / 2}" y="44" font-size="11" fill="#555">${plural(H, "host")}, ${plural(N - H, "switch")}, ${plural(t.from.length / 2, "link")}</text>`);

  // Position within its row: neighbours in a row get a straight line, others an arc.
  const rank = new Int32Array(N);
  const byRow = new Map<number, number[]>();
  for (let n = 0; n < N; n++) (byRow.get(level[n]!) ?? byRow.set(level[n]!, []).get(level[n]!)!).push(n);
  for (const row of byRow.values()) row.sort((p, q) => x[p]! - x[q]!).forEach((n, i) => (rank[n] = i));

  const links = t.from.length / 2;
  const labelled = links <= MAX_LABELLED_LINKS;
  const labels: string[] = [];
  const boxes: Array<{ x: number; y: number; w: number; h: number }> = [];
  const placedText: Array<{ text: string; x: number; y: number }> = [];
  // Labels never cover a node.
  for (let n = 0; n < N; n++) {
    const [hw, hh] = n < H ? [HOST_R, HOST_R] : [SWITCH_W / 2, SWITCH_H / 2];
    boxes.push({ x: px(n) - hw, y: py(n) - hh, w: 2 * hw, h: 2 * hh });
  }
  out.push(`<g fill="none" stroke-linecap="round">`);
  for (let i = 0; i < links; i++) {
    const a = t.from[2 * i]!;
    const b = t.to[2 * i]!;
    const capA = t.capacity[2 * i]!;
    const capB = t.capacity[2 * i + 1]!;
    const s = scale(Math.min(capA, capB));
    const stroke = colour(s);
    const w = 1.5 + 3.5 * s;
    const [x1, y1, x2, y2] = [px(a), py(a), px(b), py(b)];
    // Candidate label positions, best first.
    const spots: Array<[number, number]> = [];
    if (level[a] === level[b] && Math.abs(rank[a]! - rank[b]!) > 1) {
      // Same-row links arc upwards so they do not run through the nodes between their ends.
      const bulge = bulgeOf(x1, x2);
      const mx = (x1 + x2) / 2;
      out.push(`<path d="M${r1(x1)},${r1(y1)} Q${r1(mx)},${r1(y1 - 2 * bulge)} ${r1(x2)},${r1(y2)}" stroke="${stroke}" stroke-width="${r1(w)}"/>`);
      spots.push([mx, y1 - bulge]);
    } else {
      out.push(`<line x1="${r1(x1)}" y1="${r1(y1)}" x2="${r1(x2)}" y2="${r1(y2)}" stroke="${stroke}" stroke-width="${r1(w)}"/>`);
      // Nearer the lower end first, where lines fanning out of a switch are furthest apart.
      if (level[a] === level[b]) spots.push([(x1 + x2) / 2, y1 - 20], [(x1 + x2) / 2, y1 + 22]); // above or below a row link
      const fractions = level[a] === level[b] ? [] : [0.68, 0.84, 0.52, 0.36];
      for (const g of fractions) {
        const f = level[a]! <= level[b]! ? g : 1 - g;
        spots.push([x1 + (x2 - x1) * f, y1 + (y2 - y1) * f]);
      }
    }
    if (labelled) {
      const text = capA === capB ? formatRate(capA) : `${formatRate(capA)}/${formatRate(capB)}`;
      // A label that would overlap one already placed everywhere is left out: the colour still tells.
      const free = spots
        .map(([mx, my]) => ({ mx, my, box: { x: mx - text.length * 3.2 - 2, y: my - 7, w: text.length * 6.4 + 4, h: 14 } }))
        .find(({ box }) => !boxes.some((o) => box.x < o.x + o.w && o.x < box.x + box.w && box.y < o.y + o.h && o.y < box.y + box.h));
      if (!free) continue;
      const { mx, my, box } = free;
      // The same text close by already says it (bundles of equal links): keep the picture calm.
      if (placedText.some((p) => p.text === text && Math.hypot(p.x - mx, p.y - my) < 70)) continue;
      placedText.push({ text, x: mx, y: my });
      boxes.push(box);
      labels.push(`<text x="${r1(mx)}" y="${r1(my + 3.5)}">${esc(text)}</text>`);
    }
  }
  out.push(`</g>`);
  if (labelled) {
    out.push(`<g font-size="10" text-anchor="middle" fill="#222" stroke="#ffffff" stroke-width="3" paint-order="stroke">`);
    out.push(...labels);
    out.push(`</g>`);
  }

  out.push(`<g font-size="10" text-anchor="middle">`);
  for (let n = 0; n < N; n++) {
    const cx = px(n);
    const cy = py(n);
    const name = esc(t.names[n]!);
    if (n < H) {
      out.push(`<circle cx="${r1(cx)}" cy="${r1(cy)}" r="${HOST_R}" fill="#fde8c8" stroke="#b36b00" stroke-width="1.5"/>`);
    } else {
      out.push(`<rect x="${r1(cx - SWITCH_W / 2)}" y="${r1(cy - SWITCH_H / 2)}" width="${SWITCH_W}" height="${SWITCH_H}" rx="4" fill="#dbe7f5" stroke="#2b5c8a" stroke-width="1.5"/>`);
    }
    out.push(`<text x="${r1(cx)}" y="${r1(cy + 3.5)}">${name}</text>`);
  }
  out.push(`</g>`);

  // Legend: node kinds and the capacity colour scale.
  const ly = height - legendH + 14;
  const lx = MARGIN / 2;
  out.push(`<g font-size="11">`);
  out.push(`<rect x="${lx}" y="${ly - 8}" width="22" height="14" rx="3" fill="#dbe7f5" stroke="#2b5c8a"/><text x="${lx + 28}" y="${ly + 3}">switch</text>`);
  out.push(`<circle cx="${lx + 100}" cy="${ly - 1}" r="8" fill="#fde8c8" stroke="#b36b00"/><text x="${lx + 114}" y="${ly + 3}">host</text>`);
  out.push(`<text x="${lx}" y="${ly + 32}">capacity</text>`);
  legendCapacities(t.capacity).forEach((c, i) => {
    const f = scale(c);
    const sx = lx + 62 + i * 104;
    out.push(`<line x1="${sx}" y1="${ly + 28}" x2="${sx + 30}" y2="${ly + 28}" stroke="${colour(f)}" stroke-width="${r1(1.5 + 3.5 * f)}"/>`);
    out.push(`<text x="${sx + 34}" y="${ly + 32}">${esc(formatRate(c))}</text>`);
  });
  out.push(`</g>`);
  out.push(`</svg>`);
  return out.join("\n") + "\n";
}

/** Capacity legend entries at most: more distinct capacities are shown by a spread of them. */
const LEGEND_STEPS = 5;

/**
 * The capacities the legend shows: each one a link has (as drawn: the lower of its two
 * directions), all of them when there are few, else the lowest, the highest and ones spread
 * evenly between them in rank; never a value in between that no link has.
 */
export function legendCapacities(capacity: Float64Array): number[] {
  const drawn = new Set<number>();
  for (let d = 0; d < capacity.length; d += 2) drawn.add(Math.min(capacity[d]!, capacity[d + 1]!));
  const sorted = [...drawn].sort((a, b) => a - b);
  if (sorted.length <= LEGEND_STEPS) return sorted;
  return Array.from({ length: LEGEND_STEPS }, (_, i) => sorted[Math.round((i * (sorted.length - 1)) / (LEGEND_STEPS - 1))]!);
}

/**
 * Row per switch: its hop distance to the nearest host, counted from the top (edge switches
 * lowest, then aggregation, core or root above). Returns `chain` when the switches form a path
 * (linear topologies), which is drawn as one row in path order instead.
 */
function switchLevels(t: CompiledTopology, neighbours: number[][]): { level: Int32Array; chain?: number[] } {
  const N = t.nodeCount;
  const H = t.hostCount;
  const level = new Int32Array(N);
  const S = N - H;
  if (S === 0) return { level };
  let edges = 0;
  let maxDeg = 0;
  for (let n = H; n < N; n++) {
    const d = neighbours[n]!.filter((m) => m >= H).length;
    edges += d;
    maxDeg = Math.max(maxDeg, d);
  }
  edges /= 2;
  if (maxDeg <= 2 && edges === S - 1) {
    let at = H;
    for (let n = H; n < N; n++)
      if (neighbours[n]!.filter((m) => m >= H).length <= 1) {
        at = n;
        break;
      }
    const chain: number[] = [];
    const seen = new Uint8Array(N);
    for (let n: number | undefined = at; n !== undefined; n = neighbours[n]!.find((m) => m >= H && !seen[m])) {
      seen[n] = 1;
      chain.push(n);
    }
    return { level, chain };
  }
  const dist = new Int32Array(N).fill(-1);
  const queue: number[] = [];
  for (let h = 0; h < H; h++) {
    dist[h] = 0;
    queue.push(h);
  }
  for (let head = 0; head < queue.length; head++) {
    const n = queue[head]!;
    for (const m of neighbours[n]!) {
      if (dist[m] === -1) {
        dist[m] = dist[n]! + 1;
        queue.push(m);
      }
    }
  }
  let top = 1;
  for (let n = H; n < N; n++) top = Math.max(top, dist[n]!);
  for (let n = H; n < N; n++) level[n] = top - Math.max(1, dist[n]!);
  return { level };
}

/** Switches in path order on one row, each above its hosts. */
function placeChain(chain: number[], t: CompiledTopology, neighbours: number[][], x: Float64Array): void {
  const H = t.hostCount;
  const pos = new Map(chain.map((s, i) => [s, i]));
  const hostKey = (h: number): number => Math.min(...neighbours[h]!.map((m) => pos.get(m) ?? Infinity));
  const hosts = Array.from({ length: H }, (_, h) => h).sort((a, b) => hostKey(a) - hostKey(b) || a - b);
  let last = -Infinity;
  let hx = 0;
  for (const s of chain) {
    const mine = hosts.filter((h) => hostKey(h) === pos.get(s));
    const start = Math.max(hx, last + CHAIN_GAP - ((mine.length - 1) * HOST_GAP) / 2);
    mine.forEach((h, i) => (x[h] = start + i * HOST_GAP));
    x[s] = mine.length ? start + ((mine.length - 1) * HOST_GAP) / 2 : Math.max(last + CHAIN_GAP, hx);
    hx = mine.length ? start + mine.length * HOST_GAP : hx;
    last = x[s]!;
  }
}

/** Hosts in listed order on the bottom row; each row above by the barycentre of its placed neighbours. */
function placeLayers(t: CompiledTopology, neighbours: number[][], level: Int32Array, hostRow: number, x: Float64Array): void {
  const N = t.nodeCount;
  const rows: number[][] = Array.from({ length: hostRow + 1 }, () => []);
  for (let n = 0; n < N; n++) rows[level[n]!]!.push(n);
  const placed = new Uint8Array(N);
  rows[hostRow]!.forEach((h, i) => {
    x[h] = i * HOST_GAP;
    placed[h] = 1;
  });
  for (let r = hostRow - 1; r >= 0; r--) {
    const row = rows[r]!;
    const want = new Map<number, number>();
    for (const n of row) {
      const known = neighbours[n]!.filter((m) => placed[m]);
      want.set(n, known.length ? known.reduce((s, m) => s + x[m]!, 0) / known.length : NaN);
    }
    // Nodes with nothing placed below them keep listed order after the others.
    const sorted = [...row].sort((a, b) => {
      const wa = want.get(a)!;
      const wb = want.get(b)!;
      if (Number.isNaN(wa) !== Number.isNaN(wb)) return Number.isNaN(wa) ? 1 : -1;
      return (Number.isNaN(wa) ? 0 : wa - wb) || a - b;
    });
    // Rows with links inside them get wider gaps, so those links show and can be labelled.
    const inner = row.some((n) => neighbours[n]!.some((m) => level[m] === r));
    spread(sorted, want, x, inner ? SWITCH_W + 56 : SWITCH_W + 16);
    for (const n of sorted) placed[n] = 1;
  }
}

/** Places a row at its wished positions, pushed apart to at least `gap`, keeping its mean. */
function spread(row: number[], want: Map<number, number>, x: Float64Array, gap: number): void {
  if (row.length === 0) return;
  const wished = row.map((n) => want.get(n)!);
  let last = -Infinity;
  let fallback = 0;
  for (const w of wished) if (!Number.isNaN(w)) fallback = Math.max(fallback, w);
  const pos = wished.map((w) => {
    const p = Math.max(Number.isNaN(w) ? fallback + gap : w, last + gap);
    last = p;
    if (Number.isNaN(w)) fallback = p;
    return p;
  });
  const known = wished.filter((w) => !Number.isNaN(w));
  if (known.length) {
    const shift = known.reduce((s, w) => s + w, 0) / known.length - pos.filter((_, i) => !Number.isNaN(wished[i]!)).reduce((s, p) => s + p, 0) / known.length;
    row.forEach((n, i) => (x[n] = pos[i]! + shift));
  } else {
    row.forEach((n, i) => (x[n] = pos[i]!));
  }
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : word.endsWith("h") ? "es" : "s"}`;
}

function bulgeOf(x1: number, x2: number): number {
  return Math.min(ROW_GAP * 0.9, 18 + Math.abs(x2 - x1) * 0.3);
}

function colour(f: number): string {
  const t = Math.max(0, Math.min(1, f)) * (STOPS.length - 1);
  const i = Math.min(STOPS.length - 2, Math.floor(t));
  const u = t - i;
  const [a, b] = [STOPS[i]!, STOPS[i + 1]!];
  const c = a.map((v, k) => Math.round(v + (b[k]! - v) * u));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

function r1(v: number): string {
  return String(Math.round(v * 10) / 10);
}

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}
