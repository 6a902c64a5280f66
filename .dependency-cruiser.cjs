/**
 * The import graph's layers (test/layers.test.ts names them too), checked through every
 * transitive path: cli -> experiment level -> backends -> model, with src/core and src/formats
 * below them all; the model does no I/O, directly or through anything it imports.
 * Run by `npm test` (`depcruise src backends`); dependency-cruiser parses TypeScript with swc.
 */
const MODEL = "^src/(kernel|network|migration|measurement|policies)/";
const CORE = "^src/core/";
const FORMATS = "^src/formats/";
const BACKENDS = "^backends/";
const EXPERIMENT_LEVEL = "^src/(load|run|outputs|reports|calibrate|validation|cluster|workload)/";
const CLI = "^src/cli/";
/** node modules that touch files, processes or the network */
const IO = "^(node:)?(fs|fs/promises|child_process|net|http|https|dgram|readline|worker_threads)$";

/** `from` may not reach `to`, directly or through any chain of imports */
const never = (name, comment, from, to) => ({ name, comment, severity: "error", from: { path: from }, to: { path: to, reachable: true } });

module.exports = {
  forbidden: [
    never("model-above", "the model imports no backend, experiment-level code or CLI", MODEL, [BACKENDS, EXPERIMENT_LEVEL, CLI]),
    never("core-above", "src/core is the bottom: it reaches nothing outside itself", CORE, [MODEL, FORMATS, BACKENDS, EXPERIMENT_LEVEL, CLI]),
    never("formats-above", "the formats reach no backend, experiment-level code or CLI", FORMATS, [BACKENDS, EXPERIMENT_LEVEL, CLI]),
    never("backends-above", "backends reach neither the experiment level nor the CLI", BACKENDS, [EXPERIMENT_LEVEL, CLI]),
    never("experiment-level-above", "the experiment level never reaches the CLI", EXPERIMENT_LEVEL, CLI),
    {
      name: "cli-skips-experiment-level",
      comment: "the CLI reaches backends only through the experiment level",
      severity: "error",
      from: { path: CLI },
      to: { path: BACKENDS },
    },
    {
      name: "cli-deep-import",
      comment: "the CLI imports an experiment-level folder through its index.ts",
      severity: "error",
      from: { path: CLI },
      to: { path: EXPERIMENT_LEVEL, pathNot: "/index\\.ts$" },
    },
    {
      name: "model-io",
      comment: "the model does no I/O: files, processes and sockets are the experiment level's business",
      severity: "error",
      from: { path: [MODEL, CORE, FORMATS] },
      to: { dependencyTypes: ["core"], path: IO },
    },
    {
      name: "model-io-transitive",
      comment: "nor through a module it imports",
      severity: "error",
      from: { path: MODEL },
      to: { path: IO, reachable: true },
    },
    {
      name: "not-to-unresolvable",
      comment: "an import that resolves to no file",
      severity: "error",
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: ["\\.test\\.ts$", "^dist/", "^backends/mininet/vm/"] },
    parser: "swc",
    enhancedResolveOptions: { extensions: [".ts", ".js"], exportsFields: ["exports"], conditionNames: ["import", "require", "node", "default"] },
  },
};
