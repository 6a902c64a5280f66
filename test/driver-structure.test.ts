/**
 * The testbed driver (backends/mininet/driver/) without a testbed: its Python tests drive a whole
 * `migsim_driver.py run` in a fake world (driver/tests/fakeworld.py) and check each mode's
 * protocol order, a step timeout taking its process tree down, the deadline's censored record, and
 * every command and JSON line against the recorded ones (driver/tests/golden/). Its modules stay
 * small, and the modes and transports a plan may name are listed once (driver/modes.py).
 */
import test from "ava";
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const DRIVER = join(import.meta.dirname, "..", "backends", "mininet", "driver");
const PYTHON = "/usr/bin/python3";
const maybe = existsSync(PYTHON) ? test : test.skip;
const MODULES = readdirSync(DRIVER).filter((f) => f.endsWith(".py"));

maybe("the driver's protocol, timeouts and deadline in a fake world (python3 -m unittest)", (t) => {
  const r = spawnSync(PYTHON, ["-m", "unittest", "discover", "-s", join(DRIVER, "tests"), "-t", join(DRIVER, "tests")], {
    cwd: DRIVER,
    encoding: "utf8",
    timeout: 240_000,
    env: { ...process.env, PYTHONDONTWRITEBYTECODE: "1", MIGSIM_DRIVER_GOLDEN: "" },
  });
  t.is(r.status, 0, `${r.stdout}\n${r.stderr}`);
  t.regex(r.stderr, /^Ran \d+ tests/m);
  t.regex(r.stderr, /^OK$/m);
});

test("no driver module (tests included) is over 500 lines", (t) => {
  const files = [
    ...MODULES,
    ...readdirSync(join(DRIVER, "tests"))
      .filter((f) => f.endsWith(".py"))
      .map((f) => join("tests", f)),
  ];
  t.true(MODULES.length > 10, "the scan sees the driver");
  const long = files.map((f) => [f, readFileSync(join(DRIVER, f), "utf8").split("\n").length - 1] as const).filter(([, n]) => n > 500);
  t.deepEqual(long, []);
});

test("the driver lists its modes and transports in modes.py only", (t) => {
  // a tuple or list naming two modes, or both transports, is a list of them
  const list = /[([]\s*"(stateless|cold|pre-copy|post-copy)",\s*"(stateless|cold|pre-copy|post-copy)"|[([]\s*"(ssh|tcp)",\s*"(ssh|tcp)"/;
  const found = MODULES.filter((f) => list.test(readFileSync(join(DRIVER, f), "utf8")));
  t.deepEqual(found, ["modes.py"]);
});
