/** Cost-model defaults (placeholder values until the migration module lands; see docs/migration.md). */
import type { CostParams } from "../runspec.ts";

export const DEFAULT_COSTS: CostParams = {
  checkpointBase: 0.3,
  checkpointRate: 100e6,
  restoreBase: 0.4,
  restoreRate: 100e6,
  restorePerContainer: 0.1,
  compression: 1,
  sshHandshakeRtts: 4,
  sshCipherRate: 8 * 200e6,
  decisionCompute: 0.01,
  killDuration: 0.629,
  startDuration: 0.559,
  statelessPrepare: 0.8,
  precopyThreshold: 1e6,
  precopyMaxRounds: 5,
  postcopyMinimal: 1e6,
  controlBytes: 200,
};
