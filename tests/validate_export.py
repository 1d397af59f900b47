#!/usr/bin/python3
"""validate_export.py — export JSON files against docs/export-schema.json.

Usage: validate_export.py SCHEMA FILE...

Each FILE must be one strict JSON document (no duplicate keys, no NaN or
Infinity, nothing after the value) that the schema accepts.  Exit status 0
when all are, else 1 with one line per fault on stderr.  The schema is
checked against its own metaschema first.  Runs on Debian's python3 with
python3-jsonschema (scripts/deps.sh check installs it).
"""
import json
import sys

import jsonschema


def strict_object(pairs):
    """A JSON object that refuses a key given twice."""
    obj = {}
    for key, value in pairs:
        if key in obj:
            raise ValueError(f"duplicate key {key!r}")
        obj[key] = value
    return obj


def refuse_constant(name):
    raise ValueError(f"{name} is not JSON")


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f, object_pairs_hook=strict_object,
                         parse_constant=refuse_constant)


def main(argv):
    if len(argv) < 3:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    schema = load(argv[1])
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    validator = cls(schema)
    faults = 0
    for path in argv[2:]:
        try:
            doc = load(path)
        except (OSError, ValueError) as e:
            print(f"{path}: {e}", file=sys.stderr)
            faults += 1
            continue
        for e in validator.iter_errors(doc):
            where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}"
                            for p in e.absolute_path)
            print(f"{path}: ${where}: {e.message}", file=sys.stderr)
            faults += 1
    return 1 if faults else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
