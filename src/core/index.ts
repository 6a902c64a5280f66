/**
 * The foundations every layer may import, the model included: errors that name a file, line and
 * field (errors.ts), quantities with units (units.ts), seeded random streams (random.ts), YAML
 * documents that remember where each value came from (yamlsource.ts), typed-array storage
 * (arena.ts), statistics (stats.ts), shell quoting (shell.ts), did-you-mean suggestions
 * (suggest.ts) and JSON read back against a schema (json-input.ts). Nothing here imports any other
 * folder of src/.
 */
export { Arena } from "./arena.ts";
export { InputError, type InputLocation, UnreachableResultError } from "./errors.ts";
export { parseJsonInput } from "./json-input.ts";
export { deriveSeed, DRAWS_VERSION, makeRng, randomInt, type Rng, runSeed, runStream, subRng } from "./random.ts";
export { quote, shellCommand } from "./shell.ts";
export { describe, type IntervalMethod, intervalName, type IntervalSpec, mean, meanInterval, median, sampleStd, type Stats, STUDENT_T } from "./stats.ts";
export { closest } from "./suggest.ts";
export { checked, formatDuration, formatMbps, formatRate, formatSignificant, parseBytes, parseDuration, parseQueue, parseRate } from "./units.ts";
export { at, type FieldPath, formatPath, YamlSource } from "./yamlsource.ts";
