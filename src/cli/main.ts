/**
 * The migsim command line. Each command lives in its own module; this file wires them to yargs
 * and owns the one error policy: bad input -> one line on stderr, exit code 2, no stack trace
 * unless --debug; anything else is a bug -> exit code 1 with the stack.
 */
import yargs, { type Argv, type CommandModule } from "yargs";
import { InputError } from "../core/index.ts";
import { closest } from "../core/index.ts";
import { commands } from "./commands.ts";

const EXIT_OK = 0;
const EXIT_BUG = 1;
const EXIT_BAD_INPUT = 2;

/** yargs' "Unknown argument: rusn" plus the option probably meant (`--runs`). */
function unknownOptionHint(msg: string, options: readonly string[]): string {
  const m = /^Unknown arguments?: (.*)$/.exec(msg);
  if (!m) return "";
  const known = options.filter((o) => o !== "$0" && o.length > 1);
  for (const word of m[1]!.split(", ")) {
    const meant = closest(word.replace(/^-+/, ""), known);
    if (meant !== undefined) return ` (did you mean --${meant}?)`;
  }
  return "";
}

export async function main(argv: string[]): Promise<number> {
  const debug = argv.includes("--debug");
  const parser: Argv = yargs(argv)
    .scriptName("migsim")
    .usage("$0 <command> [options]\n\nSimulate container migration in software-defined networks.")
    .option("debug", { type: "boolean", default: false, describe: "print stack traces for errors" })
    .strict()
    .demandCommand(1, "expected a command; see migsim --help")
    .recommendCommands()
    .help()
    .alias("help", "h")
    .version()
    .wrap(Math.min(100, process.stdout.columns ?? 100))
    .exitProcess(false)
    .fail((msg, err) => {
      if (err) throw err;
      // Throwing stops yargs here: a recorded message alone would still run the command's
      // handler with the missing or invalid argument.
      const command = commands.find((c) => String(c.command ?? "").split(" ")[0] === argv[0]);
      // the parser in the failing command's state: its options are that command's
      const hint = unknownOptionHint(msg, Object.keys((parser as unknown as { getOptions(): { key: Record<string, unknown> } }).getOptions().key));
      throw new InputError(command ? `${msg}${hint}; see migsim ${argv[0]} --help` : `${msg}${hint}`);
    });
  for (const c of commands) parser.command(c as CommandModule);
  try {
    await parser.parseAsync();
    return typeof process.exitCode === "number" ? process.exitCode : EXIT_OK;
  } catch (e) {
    if (e instanceof InputError) {
      process.stderr.write(`migsim: ${e.message}\n`);
      if (debug) process.stderr.write(`${e.stack ?? ""}\n`);
      return EXIT_BAD_INPUT;
    }
    process.stderr.write(`migsim: internal error: ${(e as Error).message ?? String(e)}\n`);
    if (debug) process.stderr.write(`${(e as Error).stack ?? ""}\n`);
    else process.stderr.write("migsim: run again with --debug for the stack trace\n");
    return EXIT_BUG;
  }
}
