"""The driver's contract checked on the testbed side: its plan on start and every record before it
is emitted, against the JSON Schemas that `npm run docs:format` writes from migsim's zod schemas
(schemas/plan.schema.json, schemas/record.schema.json; src/formats/driver.ts). The migration
modes, transports and default image are read from the same schemas, never listed here again.

    python3 contract.py plan FILE      exits 2 with one line on stderr when FILE is not a valid plan
"""
import json
import os
import sys

import jsonschema

_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "schemas")


def _load(name):
    with open(os.path.join(_DIR, name)) as f:
        return json.load(f)


PLAN_SCHEMA = _load("plan.schema.json")
RECORD_SCHEMA = _load("record.schema.json")
_PLAN = jsonschema.Draft202012Validator(PLAN_SCHEMA)
_RECORD = jsonschema.Draft202012Validator(RECORD_SCHEMA)

MIGRATION_MODES = tuple(RECORD_SCHEMA["properties"]["mode"]["enum"])
TRANSPORTS = tuple(RECORD_SCHEMA["properties"]["transport"]["enum"])
IMAGE_DEFAULT = PLAN_SCHEMA["properties"]["options"]["properties"]["image"]["default"]


class ContractError(ValueError):
    """A plan or record that does not match its schema; the message names the field."""


def _check(validator, doc, what):
    error = jsonschema.exceptions.best_match(validator.iter_errors(doc))
    if error is not None:
        where = ".".join(str(p) for p in error.absolute_path) or "(top level)"
        raise ContractError("%s: %s: %s" % (what, where, error.message))


def check_plan(plan):
    """Raises ContractError naming the first field of `plan` that breaks plan.schema.json."""
    _check(_PLAN, plan, "plan")


def check_record(record):
    """Raises ContractError naming the first field of `record` that breaks record.schema.json."""
    _check(_RECORD, record, "record")


def read_plan(path):
    """The plan in `path`, checked; a file that is not JSON or not a plan raises ContractError."""
    try:
        with open(path) as f:
            plan = json.load(f)
    except (OSError, ValueError) as e:
        raise ContractError("plan %s: %s" % (path, e))
    check_plan(plan)
    return plan


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "plan":
        sys.stderr.write("usage: contract.py plan FILE\n")
        sys.exit(2)
    try:
        read_plan(sys.argv[2])
    except ContractError as e:
        sys.stderr.write("%s\n" % e)
        sys.exit(2)
