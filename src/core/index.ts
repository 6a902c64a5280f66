/**
 * The foundations every layer may import, the model included: errors that name a file, line and
 * field (errors.ts), quantities with units (units.ts), seeded random streams (random.ts), YAML
 * documents that remember where each value came from (yamlsource.ts), typed-array storage
 * (arena.ts), statistics (stats.ts), shell quoting (shell.ts), did-you-mean suggestions
 * (suggest.ts) and JSON read back against a schema (json-input.ts). Nothing here imports any other
 * folder of src/.
 */
export { InputError, type InputLocation, UnreachableResultError } from "./errors.ts";
export { closest } from "./suggest.ts";
export { formatDuration, formatRate, formatSignificant } from "./units.ts";
