/**
 * How the user started migsim, as words to print in a command they can paste back: `npx migsim`
 * (npx and `npm exec` run it from the project's node_modules, where a bare `migsim` is not on
 * PATH), `migsim` when that name on PATH is this very program (a global install), and otherwise
 * `node` with the script's path (relative to the working directory when it lies below it).
 */
import { existsSync, realpathSync } from "node:fs";
import { delimiter, isAbsolute, join, relative, sep } from "node:path";

export interface Invocation {
  env: Readonly<Record<string, string | undefined>>;
  /** the script node runs (process.argv[1]) */
  script: string;
  cwd: string;
}

function realpath(p: string): string | undefined {
  try {
    return realpathSync(p);
  } catch {
    return undefined;
  }
}

export function invokedAs(how: Invocation = { env: process.env, script: process.argv[1] ?? "migsim", cwd: process.cwd() }): string[] {
  // npm sets npm_command=exec for `npx` and `npm exec` alike
  if (how.env["npm_command"] === "exec") return ["npx", "migsim"];
  const self = realpath(how.script);
  for (const dir of (how.env["PATH"] ?? "").split(delimiter)) {
    const candidate = join(dir, "migsim");
    if (dir && self !== undefined && existsSync(candidate) && realpath(candidate) === self) return ["migsim"];
  }
  const rel = relative(how.cwd, how.script);
  const below = rel !== "" && !rel.startsWith(`..${sep}`) && rel !== ".." && !isAbsolute(rel);
  return ["node", below ? rel : how.script];
}
