import test from "ava";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { InputError } from "../src/core/errors.ts";
import { resolvePolicy } from "../src/policies/registry.ts";
import type { VibReader } from "../src/measurement/vib.ts";
import type { PolicyInput } from "../src/policies/policy-types.ts";
import { fig3, makeView, policyInputOn } from "./helpers/view.ts";

const EXAMPLE = resolve("experiments/plugins/nearest-idle.ts");

function input(seed: number, vib?: VibReader, params: Record<string, unknown> = {}): PolicyInput {
  return policyInputOn(fig3(), seed, { view: makeView(fig3(), vib ? { vib } : {}), params });
}

function vibWithLoad(loads: Record<string, number>): VibReader {
  return {
    ports: () => Object.keys(loads),
    portSeries: () => [],
    switchSeries: () => [],
    lastPort: (p) => (p in loads ? { t: 10, txBps: loads[p]!, rxBps: 0 } : undefined),
    spareCapacity: () => undefined,
  };
}

test("example plugin nearest-idle: nearest without load, skips a busy host, least loaded when all busy", async (t) => {
  const p = await resolvePolicy({ name: "nearest-idle", params: {}, plugin: EXAMPLE });
  t.is(p.name, "nearest-idle");
  t.is(p.decide(input(1)).destination, "h3");
  // h3's access port (10Mbps) carries 8Mbps: busy; h4 and h5 are equally near, h5 less loaded
  t.is(p.decide(input(1, vibWithLoad({ "h3-eth0": 8e6, "h4-eth0": 0.5e6, "h5-eth0": 0 }))).destination, "h5");
  // everyone busy: the least loaded relative to its port capacity (h4: 6/10 < h3 9/10, h5 4.5/5)
  const busy = vibWithLoad({ "h3-eth0": 9e6, "h4-eth0": 6e6, "h5-eth0": 4.5e6 });
  t.is(p.decide(input(1, busy)).destination, "h4");
  t.is(p.decide(input(1, busy, { "idle-fraction": 0.95 })).destination, "h3");
  t.throws(() => p.validate!({ nope: 1 }, { hosts: 5, candidates: 3 }), { instanceOf: InputError, message: /nearest-idle.*unknown parameter "nope"/ });
});

function plugin(code: string, ext = ".mjs"): string {
  const dir = mkdtempSync(join(tmpdir(), "migsim-plugin-"));
  const file = join(dir, `p${ext}`);
  writeFileSync(file, code);
  return file;
}

test("plugin failures are InputErrors naming the plugin file and the problem", async (t) => {
  const cases: Array<[string, RegExp]> = [
    [`export const name = "thrower"; export function decide() { throw new Error("boom"); }`, /p\.mjs: plugin thrower threw: boom/],
    [`export const name = "selfish"; export function decide(i) { return { destination: i.source }; }`, /returned the source h2/],
    [`export const name = "stray"; export function decide() { return { destination: "h1" }; }`, /returned h1, which is not a candidate/],
    [`export const name = "nothing"; export function decide() { return undefined; }`, /instead of a plan object/],
    [`export const name = "async"; export async function decide() { return { destination: "h3" }; }`, /not a Promise/],
  ];
  for (const [code, msg] of cases) {
    const file = plugin(code);
    const p = await resolvePolicy({ name: "x", params: {}, plugin: file });
    const err = t.throws(() => p.decide(input(1)), { instanceOf: InputError });
    t.regex(err.message, msg);
    t.true(err.message.includes(file));
  }
  // a partial plan (destination only) is completed with neutral values
  const ok = await resolvePolicy({ name: "x", params: {}, plugin: plugin(`export const name = "ok"; export function decide() { return { destination: "h5" }; }`) });
  t.deepEqual(ok.decide(input(1)), { keyRequests: [], setup: [], computeSeconds: 0, destination: "h5" });
  await t.throwsAsync(resolvePolicy({ name: "x", params: {}, plugin: plugin(`export const name = "n";`) }), { instanceOf: InputError, message: /must export a function `decide/ });
  await t.throwsAsync(resolvePolicy({ name: "x", params: {}, plugin: plugin(`export function decide() {}`) }), { instanceOf: InputError, message: /must export `name`/ });
  await t.throwsAsync(resolvePolicy({ name: "x", params: {}, plugin: "/nonexistent/policy.mjs" }), { instanceOf: InputError, message: /not found/ });
  await t.throwsAsync(resolvePolicy({ name: "x", params: {}, plugin: plugin(`export const name = "n"; export const readsVib = "no"; export function decide() {}`) }), {
    instanceOf: InputError,
    message: /`readsVib`, when exported, must be true or false/,
  });
  t.is((await resolvePolicy({ name: "x", params: {}, plugin: plugin(`export const name = "n"; export const readsVib = false; export function decide() {}`) })).readsVib, false);
  t.is((await resolvePolicy({ name: "x", params: {}, plugin: plugin(`export const name = "n"; export function decide() {}`) })).readsVib, undefined);
  await t.throwsAsync(resolvePolicy({ name: "x", params: {}, plugin: plugin("export const = ;") }), { instanceOf: InputError, message: /cannot load the plugin/ });
  // a default-exported object works too
  const def = await resolvePolicy({ name: "x", params: {}, plugin: plugin(`export default { name: "d", decide: () => ({ destination: "h4" }) };`) });
  t.is(def.decide(input(1)).destination, "h4");
});
