/**
 * Testbed profiles: the `network` and `costs` blocks fitted on one testbed (`migsim calibrate`),
 * applied under an experiment's own values. The built-in `paper` profile is the defaults, which
 * are fitted on the NetSoft 2019 tables (docs/reproduction.md); a profile file changes only the
 * values it names. Format: docs/format.md ("Testbed profile").
 */
import { readYamlFile } from "./read-yaml.ts";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { InputError } from "../core/errors.ts";
import { costsAt } from "./costs-at.ts";
import type { RawDoc } from "./overrides.ts";
import { EXPERIMENT_DEFAULTS, PROFILE_SCHEMA, type ProfileDocument } from "../formats/experiment.ts";

/** The profile a run used, as the manifest records it. */
export interface ProfileRef {
  name: string;
  /** absolute path of the profile file; null for a built-in */
  file: string | null;
  /** sha256 of the file's bytes (of the built-in's canonical JSON) */
  sha256: string;
}

export interface Profile extends ProfileRef {
  document: ProfileDocument;
}

export const PAPER_PROFILE = EXPERIMENT_DEFAULTS.profile;

const PAPER_DOCUMENT: ProfileDocument = {
  profile: PAPER_PROFILE,
  description: "the defaults: host costs and network parameters fitted on Tables I-III of the NetSoft 2019 paper (docs/reproduction.md)",
};

/** Names a profile can be given by instead of a file. */
export const BUILTIN_PROFILES: Readonly<Record<string, ProfileDocument>> = { [PAPER_PROFILE]: PAPER_DOCUMENT };

/**
 * Loads a profile by built-in name or file (relative to `baseDir`); every value is checked here,
 * so an error names the profile file's line, never the experiment's.
 */
export function loadProfile(ref: string, baseDir = process.cwd()): Profile {
  const builtin = BUILTIN_PROFILES[ref];
  if (builtin) {
    return { name: ref, file: null, sha256: sha256(JSON.stringify(builtin)), document: builtin };
  }
  const file = resolve(baseDir, ref);
  const source = readYamlFile(file);
  if (!source.data || typeof source.data !== "object" || Array.isArray(source.data)) {
    throw new InputError(`expected a testbed profile (a mapping with profile, network, costs; or a built-in: ${Object.keys(BUILTIN_PROFILES).join(", ")})`, { file });
  }
  const document = source.parse(PROFILE_SCHEMA);
  costsAt(source, document.costs ?? {});
  return { name: document.profile, file, sha256: sha256(readFileSync(file)), document };
}

/** The folder `migsim calibrate` writes a profile's measurements to, beside the profile: FILE.measurements. */
export const measurementsDirOf = (profileFile: string): string => `${profileFile.replace(/\.ya?ml$/, "")}.measurements`;

/** The profile an experiment names (`profile:`), relative to the experiment's folder. */
export function profileOf(experimentFile: string, raw: RawDoc): string | undefined {
  const p = raw["profile"];
  return typeof p === "string" ? resolveRef(p, dirname(experimentFile)) : undefined;
}

function resolveRef(ref: string, dir: string): string {
  return BUILTIN_PROFILES[ref] ? ref : resolve(dir, ref);
}

/**
 * The experiment document with the profile underneath: each `network` field, each
 * `network.extra` entry and each `costs` entry the experiment does not set comes from the profile.
 */
export function applyProfile(raw: RawDoc, profile: Profile): RawDoc {
  const { network: pNet, costs: pCosts } = profile.document;
  const out: RawDoc = { ...raw };
  delete out["profile"];
  if (pNet) {
    const own = (raw["network"] ?? {}) as RawDoc;
    const net: RawDoc = { ...pNet, ...own };
    if (pNet.extra || own["extra"]) net["extra"] = { ...pNet.extra, ...(own["extra"] as RawDoc | undefined) };
    out["network"] = net;
  }
  if (pCosts) out["costs"] = { ...pCosts, ...((raw["costs"] ?? {}) as RawDoc) };
  return out;
}

function sha256(data: string | Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}
