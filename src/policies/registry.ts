/**
 * The policy registry: the builtin policies by name, and user plugins loaded from a module path.
 * Every policy, builtin or plugin, is wrapped so its plan is checked against the contract
 * (destination a reachable candidate, never the source); a plugin's failures become InputErrors
 * that name the plugin file.
 */
import { extname } from "node:path";
import { pathToFileURL } from "node:url";
import { InputError } from "../core/errors.ts";
import type { PolicySpec } from "../formats/runspec.ts";
import { planProblem } from "./common.ts";
import { availableBandwidthPolicy, bandwidthPolicy, fixedPolicy, randomPolicy, shortestPathPolicy } from "./loadbalancing.ts";
import { mtdFountainPolicy, mtdRandomPolicy, mtdShamirPolicy } from "./mtd.ts";
import type { Policy, PolicyInput, PolicyPlan } from "./policy-types.ts";

function checked(policy: Policy): Policy {
  return {
    name: policy.name,
    ...(policy.readsVib !== undefined ? { readsVib: policy.readsVib } : {}),
    ...(policy.validate ? { validate: policy.validate.bind(policy) } : {}),
    ...(policy.check ? { check: policy.check.bind(policy) } : {}),
    decide(input: PolicyInput): PolicyPlan {
      const plan = policy.decide(input);
      const problem = planProblem(plan, input);
      if (problem) throw new Error(`policy ${policy.name} ${problem} (a bug in the builtin policy)`);
      return plan;
    },
  };
}

export const builtinPolicies: ReadonlyMap<string, Policy> = new Map(
  [randomPolicy, bandwidthPolicy, shortestPathPolicy, availableBandwidthPolicy, fixedPolicy, mtdShamirPolicy, mtdFountainPolicy, mtdRandomPolicy].map((p) => [p.name, checked(p)]),
);

/** The builtin policy or the plugin a spec names. */
export async function resolvePolicy(spec: PolicySpec): Promise<Policy> {
  if (spec.plugin !== undefined) return loadPlugin(spec.plugin);
  const p = builtinPolicies.get(spec.name);
  if (!p) {
    throw new InputError(`unknown policy "${spec.name}" (builtin: ${[...builtinPolicies.keys()].join(", ")}; or a plugin module by path)`);
  }
  return p;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

async function importModule(file: string): Promise<Record<string, unknown>> {
  const url = pathToFileURL(file).href;
  try {
    return (await import(url)) as Record<string, unknown>;
  } catch (e) {
    const code = (e as { code?: string }).code;
    const ts = [".ts", ".mts", ".cts"].includes(extname(file));
    if (ts && code === "ERR_UNKNOWN_FILE_EXTENSION") {
      // plain Node cannot load TypeScript: use tsx when it is installed (a dev dependency of migsim)
      let tsImport: ((specifier: string, parent: string) => Promise<unknown>) | undefined;
      try {
        ({ tsImport } = (await import("tsx/esm/api")) as { tsImport: (specifier: string, parent: string) => Promise<unknown> });
      } catch {
        throw new InputError(`cannot load a TypeScript plugin: compile it to .js, or install tsx (npm install tsx) so migsim can load .ts`, { file });
      }
      try {
        return (await tsImport(url, import.meta.url)) as Record<string, unknown>;
      } catch (e2) {
        throw new InputError(`cannot load the plugin: ${message(e2)}`, { file });
      }
    }
    if (code === "ERR_MODULE_NOT_FOUND" && (e as Error).message.includes(file)) {
      throw new InputError(`plugin module not found`, { file });
    }
    throw new InputError(`cannot load the plugin: ${message(e)}`, { file });
  }
}

/** Loads a user policy: a module exporting `name` (text) and `decide(input)`, optionally `validate`. */
async function loadPlugin(file: string): Promise<Policy> {
  const mod = await importModule(file);
  // accept named exports or a default export object holding them
  const def = mod.default as Record<string, unknown> | undefined;
  const src = typeof mod.decide !== "function" && typeof def === "object" && def !== null && "decide" in def ? def : mod;
  const name = src.name;
  const decide = src.decide;
  const validate = src.validate;
  if (typeof name !== "string" || name.trim() === "") throw new InputError(`plugin must export \`name\` (a non-empty string)`, { file });
  if (typeof decide !== "function") throw new InputError(`plugin must export a function \`decide(input)\``, { file });
  if (validate !== undefined && typeof validate !== "function") throw new InputError(`plugin: \`validate\`, when exported, must be a function`, { file });
  const readsVib = src.readsVib;
  if (readsVib !== undefined && typeof readsVib !== "boolean") throw new InputError(`plugin: \`readsVib\`, when exported, must be true or false`, { file });

  const policy: Policy = {
    name,
    ...(readsVib !== undefined ? { readsVib } : {}),
    decide(input) {
      let raw: unknown;
      try {
        raw = decide.call(src, input);
      } catch (e) {
        if (e instanceof InputError) throw new InputError(`plugin ${name}: ${e.detail}`, { ...e.location, file });
        throw new InputError(`plugin ${name} threw: ${message(e)}`, { file });
      }
      if (raw instanceof Promise) throw new InputError(`plugin ${name}: decide must return a plan, not a Promise`, { file });
      // missing optional parts of the plan take their neutral values
      const plan = typeof raw === "object" && raw !== null ? { keyRequests: [], setup: [], computeSeconds: 0, ...(raw as Partial<PolicyPlan>) } : raw;
      const problem = planProblem(plan, input);
      if (problem) throw new InputError(`plugin ${name} ${problem}`, { file });
      return plan as PolicyPlan;
    },
  };
  if (typeof validate === "function") {
    policy.validate = (params, ctx) => {
      try {
        validate.call(src, params, ctx);
      } catch (e) {
        if (e instanceof InputError) throw new InputError(`plugin ${name}: ${e.detail}`, { ...e.location, file });
        throw new InputError(`plugin ${name} rejected its parameters: ${message(e)}`, { file });
      }
    };
  }
  return policy;
}
