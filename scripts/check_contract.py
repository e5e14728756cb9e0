"""Checks feedback.schema.json against the contract corpus with an independent
JSON Schema validator, so the schema producers read and the decoder tongdian
runs cannot drift apart. Cases marked "schema": false exercise rules JSON
Schema cannot express (control characters, the future-time horizon, blank
text on a scored survey); they are skipped here and checked by the Rust tests.
"""
import json
import sys

import jsonschema

schema_path, corpus_path = sys.argv[1], sys.argv[2]
with open(schema_path, encoding="utf-8") as f:
    schema = json.load(f)
jsonschema.Draft202012Validator.check_schema(schema)
validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())

failures, checked = [], 0
with open(corpus_path, encoding="utf-8") as f:
    for line in f:
        case = json.loads(line)
        if case.get("schema", True) is False:
            continue
        if "raw" in case:
            try:
                instance = json.loads(case["raw"])
            except json.JSONDecodeError:
                continue  # not JSON at all: nothing for a schema to say
        else:
            instance = case["payload"]
        valid = validator.is_valid(instance)
        if valid != (case["expect"] == "ok"):
            failures.append(f'{case["name"]}: schema says {"valid" if valid else "invalid"}, decoder expects {case["expect"]}')
        checked += 1

for f in failures:
    print("MISMATCH", f)
print(f"contract: {checked - len(failures)} passed, {len(failures)} failed")
sys.exit(1 if failures else 0)
