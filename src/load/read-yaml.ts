/** A YAML file read from disk into a YamlSource; a missing or unreadable file is one InputError naming it. */
import { readFileSync } from "node:fs";
import { InputError } from "../core/errors.ts";
import { YamlSource } from "../core/yamlsource.ts";

export function readYamlFile(file: string): YamlSource {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(code === "ENOENT" ? "no such file" : `cannot read the file (${code ?? String(e)})`, { file });
  }
  return YamlSource.fromText(text, file);
}
