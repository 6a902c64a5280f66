import test from "ava";
import { MinHeap } from "../src/kernel/heap.ts";
import { makeRng } from "../src/core/random.ts";

/** Pops everything: the (key, tie, value) triples in the order they come out. */
function drain(h: MinHeap): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  while (h.size > 0) {
    out.push([h.peekKey(), h.peekValue()]);
    h.pop();
  }
  return out;
}

test("values come out by key, then tie; grows past its initial capacity", (t) => {
  const rng = makeRng(7);
  const h = new MinHeap({ capacity: 2 });
  const entries: Array<[number, number]> = [];
  for (let v = 0; v < 500; v++) {
    const key = Math.floor(rng() * 20); // many equal keys: the tie decides
    entries.push([key, v]);
    h.push(key, 500 - v, v);
  }
  entries.sort((a, b) => a[0] - b[0] || 500 - a[1] - (500 - b[1]));
  t.deepEqual(drain(h), entries);
  t.is(h.peekValue(), -1);
  t.is(h.peekKey(), Infinity);
});

test("replaceTop is pop then push", (t) => {
  const a = new MinHeap();
  const b = new MinHeap();
  for (const [k, v] of [
    [3, 0],
    [1, 1],
    [2, 2],
    [5, 3],
  ] as const) {
    a.push(k, v, v);
    b.push(k, v, v);
  }
  a.replaceTop(4, 9, 9);
  b.pop();
  b.push(4, 9, 9);
  t.deepEqual(drain(a), drain(b));
});

test("indexed: set moves a value's one entry, delete removes it, against a sorted reference", (t) => {
  const rng = makeRng(11);
  const h = new MinHeap({ indexed: true, capacity: 4 });
  const ref = new Map<number, number>();
  for (let step = 0; step < 5000; step++) {
    const v = Math.floor(rng() * 300);
    const r = rng();
    if (r < 0.6) {
      const key = Math.floor(rng() * 1000) / 10;
      h.set(v, key, v);
      ref.set(v, key);
    } else if (r < 0.85) {
      h.delete(v);
      ref.delete(v);
    } else if (h.size > 0) {
      ref.delete(h.peekValue());
      h.pop();
    }
    t.is(h.size, ref.size);
  }
  const expected = [...ref].map(([v, k]) => [k, v] as [number, number]).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  t.deepEqual(drain(h), expected);
});

test("set and delete refuse a heap that is not indexed", (t) => {
  t.throws(() => new MinHeap().set(1, 1, 1), { message: /indexed/ });
});
