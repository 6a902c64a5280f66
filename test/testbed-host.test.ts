/**
 * The testbed host's record around calibrations and validations: a busy host is warned about
 * (checkpoint and restore times follow the host's load), and a validation on another kernel, CRIU
 * or CPU than the profile's is named.
 */
import test from "ava";
import type { HostState } from "../src/formats/runspec.ts";
import { busyWarning, machineDifferences, machineRecord } from "../src/run/testbed-host.ts";
import { DriverHostSchema, DriverPreflightSchema, parseDriverLine } from "../src/formats/driver.ts";

const idle: HostState = { kernel: "6.18.44", cpus: 2, cpu: "AMD EPYC", criu: "4.2.1", load1: 0.4, load5: 0.9 };

test("a 1-minute load above half the CPUs is a busy host", (t) => {
  t.is(busyWarning(idle, "a calibration"), undefined);
  t.is(busyWarning({ ...idle, load1: 1 }, "a calibration"), undefined, "one of two cores busy is at the line, not over");
  const w = busyWarning({ ...idle, load1: 1.5 }, "a calibration");
  t.regex(w ?? "", /^warning: the testbed host is busy \(load average 1\.50 over 1 min on 2 CPUs\): .* a calibration is best run/);
  t.truthy(busyWarning({ ...idle, cpus: 8, load1: 4.5 }, "x"));
  t.is(busyWarning({ ...idle, cpus: 8, load1: 3.9 }, "x"), undefined);
});

test("the machine record says what the host runs and its load at both ends", (t) => {
  t.deepEqual(machineRecord(idle, { ...idle, load1: 1.234 }), {
    kernel: "6.18.44",
    cpu: "2 x AMD EPYC",
    criu: "4.2.1",
    "load-average": "0.40 at the start, 1.23 at the end (1 min, 2 CPUs)",
  });
});

test("a validation host differing from the profile's is named field by field; load is not a difference", (t) => {
  const fitted = machineRecord(idle, idle);
  t.deepEqual(machineDifferences(fitted, { ...idle, load1: 3 }), []);
  t.deepEqual(machineDifferences(fitted, { ...idle, kernel: "6.19.1", criu: "4.1.1" }), ["kernel: profile 6.18.44, testbed now 6.19.1", "criu: profile 4.2.1, testbed now 4.1.1"]);
  t.deepEqual(machineDifferences(undefined, idle), [], "a profile without a machine block (the paper's) is not compared");
});

test("the driver's host line is checked against its contract, never cast", (t) => {
  // as the driver printed it on this project's testbed
  const line = '{"type":"host","kernel":"6.18.44-fc-v1045","cpus":2,"cpu":"AMD EPYC","criu":"4.2.1","load1":1.88,"load5":1.25}';
  const { type, ...host } = parseDriverLine(line, DriverHostSchema);
  t.is(type, "host");
  t.deepEqual(host, { kernel: "6.18.44-fc-v1045", cpus: 2, cpu: "AMD EPYC", criu: "4.2.1", load1: 1.88, load5: 1.25 });
  t.throws(() => parseDriverLine('{"type":"host","kernel":"6.18","cpus":2,"cpu":"x","criu":""}', DriverHostSchema), { message: /breaks its contract \(load1: / });
});

test("the driver's preflight answer is checked against its contract, never cast", (t) => {
  // the shape the driver prints on this project's testbed (pre-copy lacks soft-dirty tracking there)
  const line = '{"type":"preflight","missing":[],"netem":true,"modes":{"pre-copy":"pre-copy needs CONFIG_MEM_SOFT_DIRTY","post-copy":null}}';
  const res = parseDriverLine(line, DriverPreflightSchema);
  t.deepEqual(res.missing, []);
  t.deepEqual(res.modes, { "pre-copy": "pre-copy needs CONFIG_MEM_SOFT_DIRTY", "post-copy": null });
  t.throws(() => parseDriverLine('{"type":"preflight","missing":[{"what":"iperf3"}]}', DriverPreflightSchema), { message: /breaks its contract \(missing\.0\.fix: / });
});
