/**
 * The command printed after Ctrl-C is the one the user can paste: started as they started migsim
 * (npx, a global install, or node with the script), every option kept, --resume added once.
 */
import test from "ava";
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { invokedAs } from "../src/cli/invocation.ts";
import { resumeCommand } from "../src/outputs/partial.ts";

const dir = mkdtempSync(join(tmpdir(), "migsim-inv-"));
const project = join(dir, "project");
const script = join(project, "bin", "migsim.js");
mkdirSync(join(project, "bin"), { recursive: true });
writeFileSync(script, "");
const globalBin = join(dir, "global-bin");
mkdirSync(globalBin);
symlinkSync(script, join(globalBin, "migsim"));
const otherBin = join(dir, "other-bin");
mkdirSync(otherBin);
writeFileSync(join(otherBin, "migsim"), "");

test("npx (and npm exec) gives `npx migsim`: a bare migsim is not on PATH there", (t) => {
  t.deepEqual(invokedAs({ env: { npm_command: "exec", PATH: "/usr/bin" }, script, cwd: project }), ["npx", "migsim"]);
});

test("a migsim on PATH that is this program gives `migsim`; another program of that name does not", (t) => {
  t.deepEqual(invokedAs({ env: { PATH: `/nonexistent:${globalBin}` }, script, cwd: dir }), ["migsim"]);
  t.deepEqual(invokedAs({ env: { PATH: otherBin }, script, cwd: project }), ["node", join("bin", "migsim.js")]);
});

test("node with the script: relative below the working directory, absolute elsewhere", (t) => {
  t.deepEqual(invokedAs({ env: {}, script, cwd: project }), ["node", "bin/migsim.js"]);
  t.deepEqual(invokedAs({ env: {}, script, cwd: join(dir, "elsewhere") }), ["node", script]);
});

test("the resume hint keeps every option, quoted, and adds --resume once", (t) => {
  t.is(resumeCommand(["run", "my exp.yaml", "--runs", "5"], ["npx", "migsim"]), "npx migsim run 'my exp.yaml' --runs 5 --resume");
  t.is(resumeCommand(["run", "e.yaml", "--resume"], ["node", "bin/migsim.js"]), "node bin/migsim.js run e.yaml --resume");
});
