// The emulation suite (test/emulation.test.ts) on its own, after every other test file has ended:
// its calibration and validations time checkpoints, restores and copies on this machine's
// testbed, and the other test files running beside it (ava runs two at a time) would load the
// cores those measurements need.
import base from "./package.json" with { type: "json" };

export default { ...base.ava, files: ["test/emulation.test.ts"] };
