/**
 * The shape rules of src/: no source file over 500 lines, and no class whose chain of base
 * classes is deeper than 2 (a class extending a built-in such as Error is one level deep; one
 * extending that class two). Deep chains share mutable state across files; long files mix concerns.
 * The chains come from the TypeScript checker (the project's tsconfig), so an alias, a re-export
 * or a class expression counts like a plain `class A extends B`.
 */
import test from "ava";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import type { Node } from "typescript/unstable/ast";
import { isClassLikeDeclaration } from "typescript/unstable/ast/is";
import { API, isClassOrInterfaceType, isTypeReference } from "typescript/unstable/sync";

const root = join(import.meta.dirname, "..");
const src = join(root, "src");
const MAX_LINES = 500;
const MAX_DEPTH = 2;

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith(".ts") ? [p] : [];
  });
}

function lineCount(file: string): number {
  const text = readFileSync(file, "utf8");
  return text.split("\n").length - (text.endsWith("\n") ? 1 : 0);
}

test(`no source file in src/ is over ${MAX_LINES} lines`, (t) => {
  const files = sources(src);
  const over = files.filter((f) => lineCount(f) > MAX_LINES).map((f) => `${relative(root, f)}: ${lineCount(f)} lines`);
  t.deepEqual(over, []);
  // the walk sees the sources (an empty list above means something)
  t.true(files.length > 50);
});

interface ClassChain {
  where: string;
  chain: string[];
}

/** every class declared in src/ with the names of its base classes, nearest first */
function classChains(): ClassChain[] {
  const api = new API({ cwd: root });
  try {
    const project = api.updateSnapshot({ openProjects: [join(root, "tsconfig.json")] }).getProjects()[0]!;
    const { program, checker } = project;
    const found: ClassChain[] = [];
    for (const file of program.getSourceFileNames()) {
      if (!file.startsWith(`${src}/`)) continue;
      const visit = (node: Node): void => {
        if (isClassLikeDeclaration(node)) {
          const symbol = checker.getSymbolAtLocation(node.name ?? node);
          const chain: string[] = [];
          let type = symbol && checker.getDeclaredTypeOfSymbol(symbol);
          for (;;) {
            // (a generic base such as Signal<T> is an instantiation: its bases are its target's)
            const declared = type && !isClassOrInterfaceType(type) && isTypeReference(type) ? type.getTarget() : type;
            const bases = declared && isClassOrInterfaceType(declared) ? checker.getBaseTypes(declared) : [];
            if (bases.length === 0) break;
            type = bases[0]!;
            chain.push(checker.typeToString(type));
          }
          found.push({ where: `${relative(root, file)} ${node.name?.text ?? "(class expression)"}`, chain });
        }
        node.forEachChild((child) => {
          visit(child);
        });
      };
      visit(program.getSourceFile(file)!);
    }
    return found;
  } finally {
    api.close();
  }
}

test(`no class in src/ has a chain of base classes deeper than ${MAX_DEPTH}`, (t) => {
  const chains = classChains();
  const deep = chains.filter((c) => c.chain.length > MAX_DEPTH).map((c) => `${c.where}: ${c.chain.join(" <- ")}`);
  t.deepEqual(deep, []);
  // the checker resolves chains (InputError extends the built-in Error: one level)
  t.deepEqual(chains.find((c) => c.where === "src/core/errors.ts InputError")?.chain, ["Error"]);
});
