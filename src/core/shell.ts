/**
 * POSIX shell quoting, the one way a command line is built from user strings anywhere in migsim:
 * commands sent to the testbed over SSH, and the `--resume` hint printed after Ctrl-C.
 */
import { InputError } from "./errors.ts";

const PLAIN = /^[A-Za-z0-9_./:=@%+,-]+$/;

/** One word whose value is exactly `arg`. */
export function quote(arg: string): string {
  if (arg.includes("\0")) throw new InputError("NUL byte in a shell argument");
  if (PLAIN.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** A command line from a program and its arguments, every one quoted. */
export function shellCommand(program: string, ...args: string[]): string {
  return [program, ...args].map(quote).join(" ");
}
