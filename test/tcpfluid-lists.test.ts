import test from "ava";
import type { FluidFlow } from "../src/network/tcpfluid/flow.ts";
import { FlowList, LinkList } from "../src/network/tcpfluid/lists.ts";

test("LinkList keeps every id in insertion order across growth, and refills in place after size = 0", (t) => {
  const list = new LinkList();
  const ids = Array.from({ length: 1000 }, (_, i) => (i * 7919) % 6144);
  for (const l of ids) list.push(l);
  t.is(list.size, ids.length);
  t.deepEqual(Array.from(list.items.subarray(0, list.size)), ids);
  const capacity = list.items;
  list.size = 0;
  for (const l of [5, 3, 9]) list.push(l);
  t.is(list.items, capacity, "no new backing store");
  t.deepEqual(Array.from(list.items.subarray(0, list.size)), [5, 3, 9]);
});

test("FlowList overwrites from the start after size = 0 and grows past its old length", (t) => {
  const flows = Array.from({ length: 5 }, (_, i) => ({ id: i }) as unknown as FluidFlow);
  const list = new FlowList();
  for (const f of flows.slice(0, 3)) list.push(f);
  list.size = 0;
  for (const f of [flows[4]!, flows[3]!, flows[2]!, flows[1]!]) list.push(f);
  t.is(list.size, 4);
  t.deepEqual(list.items.slice(0, list.size), [flows[4], flows[3], flows[2], flows[1]]);
});
