/** Names of the built-in policies, for validating experiment files before anything runs. */
export const BUILTIN_POLICY_NAMES = [
  "random", "bandwidth", "shortest-path", "available-bandwidth", "fixed",
  "mtd-shamir", "mtd-fountain", "mtd-random",
] as const;

export function isKnownPolicy(name: string): boolean {
  return (BUILTIN_POLICY_NAMES as readonly string[]).includes(name);
}

export function knownPolicyNames(): string[] {
  return [...BUILTIN_POLICY_NAMES];
}
