/** The experiments folder shipped with migsim (works from src/ under tsx and from dist/). */
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";

export function shippedExperimentsDir(): string {
  const here = fileURLToPath(new URL(".", import.meta.url));
  const up = here.includes(`${"/"}dist${"/"}`) ? "../../../experiments" : "../../experiments";
  return resolve(here, up);
}
