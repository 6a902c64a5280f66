/**
 * InputError: the one kind of error a user's bad input produces. The CLI prints its message as
 * a single line and exits with code 2; anything else is a bug and gets a stack trace only with --debug.
 */
export interface InputLocation {
  file?: string | undefined;
  line?: number | undefined;
  column?: number | undefined;
  /** dotted field path, e.g. `links.3.capacity` */
  field?: string | undefined;
}

export class InputError extends Error {
  readonly location: InputLocation;
  readonly detail: string;

  constructor(detail: string, location: InputLocation = {}) {
    super(formatInputError(detail, location));
    this.name = "InputError";
    this.detail = detail;
    this.location = location;
  }

  /** A copy with missing location parts filled from `outer` (inner parts win). */
  withLocation(outer: InputLocation): InputError {
    return new InputError(this.detail, {
      file: this.location.file ?? outer.file,
      line: this.location.line ?? outer.line,
      column: this.location.column ?? outer.column,
      field: joinField(outer.field, this.location.field),
    });
  }
}

function joinField(outer: string | undefined, inner: string | undefined): string | undefined {
  if (outer && inner) return `${outer}.${inner}`;
  return inner ?? outer;
}

function formatInputError(detail: string, loc: InputLocation): string {
  let where = "";
  if (loc.file) {
    where = loc.file;
    if (loc.line !== undefined) where += `:${loc.line}`;
    if (loc.line !== undefined && loc.column !== undefined) where += `:${loc.column}`;
    where += ": ";
  }
  const field = loc.field ? `${loc.field}: ` : "";
  return `${where}${field}${detail}`.replace(/\s*\n\s*/g, " ");
}

/** An error that says a simulated result cannot exist (e.g. a transfer that never finishes). */
export class UnreachableResultError extends InputError {}
