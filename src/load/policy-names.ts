/** Names of the built-in policies, for validating experiment files before anything runs. */
import { builtinPolicies } from "../policies/registry.ts";

export function isKnownPolicy(name: string): boolean {
  return builtinPolicies.has(name);
}

export function knownPolicyNames(): string[] {
  return [...builtinPolicies.keys()];
}
