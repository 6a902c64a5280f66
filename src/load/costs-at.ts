/** A `costs:` block parsed over the defaults, its errors located in the file that holds it (experiment or profile). */
import { InputError } from "../core/errors.ts";
import { costsFromBlock } from "../migration/costs.ts";
import type { CostParams } from "../formats/runspec.ts";
import type { YamlSource } from "../core/yamlsource.ts";

export function costsAt(source: YamlSource, block: Record<string, unknown>): CostParams {
  try {
    return costsFromBlock(block);
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    const key = e.location.field?.split(".")[1];
    throw new InputError(e.detail, { ...source.locate(key === undefined ? ["costs"] : ["costs", key]) });
  }
}
