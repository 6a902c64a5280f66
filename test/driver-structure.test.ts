/**
 * The testbed driver (backends/mininet/driver/) without a testbed: its Python tests drive a whole
 * `migsim_driver.py run` in a fake world (driver/tests/fakeworld.py) and check each mode's
 * protocol order, a step timeout taking its process tree down, the deadline's censored record, and
 * every command and JSON line against the recorded ones (driver/tests/golden/).
 */
import test from "ava";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";

const DRIVER = join(import.meta.dirname, "..", "backends", "mininet", "driver");
const PYTHON = "/usr/bin/python3";
const maybe = existsSync(PYTHON) ? test : test.skip;

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
