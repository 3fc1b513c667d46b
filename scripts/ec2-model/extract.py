#!/usr/bin/env python3
"""Extract the EC2 operations we serve, and the closure of their shapes, from botocore's official
EC2 service model into src/api/protocol/ec2-model.json.

Usage: python3 scripts/ec2-model/extract.py [path/to/service-2.json(.gz)] [--check]

Writes two files: the model as data (src/api/protocol/ec2-model.json) and TypeScript interfaces
for its structures (src/api/protocol/Ec2Shapes.ts), so that parsed inputs and handler outputs are
typed by the same model that drives the parser and the serializer. Without a path the model comes
from the installed botocore package. --check exits 1 when a committed file differs from what would
be generated (for CI). Only protocol-relevant traits are
kept (type, members, required, locationName, queryName, list member, map key/value, timestamp
format, integer bounds, idempotencyToken); documentation, enums and string patterns are dropped to
keep the file small. The output is deterministic (sorted keys, fixed indentation).
"""

import argparse
import gzip
import json
import os
import sys

OPERATIONS = [
    "DescribeRegions", "DescribeAvailabilityZones",
    "DescribeImages", "RegisterImage", "DeregisterImage", "DescribeImageAttribute",
    "CreateKeyPair", "ImportKeyPair", "DescribeKeyPairs", "DeleteKeyPair",
    "CreateSecurityGroup", "DeleteSecurityGroup", "DescribeSecurityGroups",
    "AuthorizeSecurityGroupIngress", "RevokeSecurityGroupIngress",
    "RunInstances", "DescribeInstances", "DescribeInstanceStatus", "TerminateInstances",
    "RebootInstances", "GetConsoleOutput", "DescribeInstanceTypes",
    "CreateTags", "DeleteTags", "DescribeTags",
    "AllocateAddress", "AssociateAddress", "DisassociateAddress", "ReleaseAddress",
    "DescribeAddresses",
    # Volumes, snapshots and EBS-backed stop/start (issue 13)
    "CreateVolume", "DescribeVolumes", "DeleteVolume", "AttachVolume", "DetachVolume",
    "DescribeVolumeStatus", "CreateSnapshot", "DescribeSnapshots", "DeleteSnapshot",
    "DescribeSnapshotAttribute", "ModifySnapshotAttribute", "StopInstances", "StartInstances",
    # The default VPC (issue 16): the cloud's network as Eucalyptus 4's VPC mode presented it.
    "DescribeVpcs", "DescribeSubnets", "DescribeAccountAttributes", "DescribeNetworkInterfaces", "CreateVpc",
    "AuthorizeSecurityGroupEgress", "RevokeSecurityGroupEgress",
    # Instance attributes (issue 16).
    "DescribeInstanceAttribute", "ModifyInstanceAttribute", "ResetInstanceAttribute",
    # Image attributes and the reserved-instance listings Eucalyptus answered empty (issue 16).
    "ModifyImageAttribute", "ResetImageAttribute", "DescribeReservedInstances", "DescribeReservedInstancesOfferings",
    # Launch templates (issue 16).
    "CreateLaunchTemplate", "DescribeLaunchTemplates", "DeleteLaunchTemplate", "CreateLaunchTemplateVersion",
    "DescribeLaunchTemplateVersions", "ModifyLaunchTemplate",
]

SHAPE_KEYS = ("type", "required", "timestampFormat", "flattened")
MEMBER_KEYS = ("shape", "locationName", "queryName", "idempotencyToken")


def default_model_path():
    import botocore  # the installed botocore is the source of truth

    base = os.path.join(os.path.dirname(botocore.__file__), "data", "ec2", "2016-11-15")
    for name in ("service-2.json.gz", "service-2.json"):
        path = os.path.join(base, name)
        if os.path.exists(path):
            return path, botocore.__version__
    sys.exit(f"extract.py: no EC2 service model under {base}")


def load(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        return json.load(f)


def member_ref(ref):
    return {k: ref[k] for k in MEMBER_KEYS if k in ref}


def slim_shape(shape):
    out = {k: shape[k] for k in SHAPE_KEYS if k in shape}
    if shape["type"] == "structure":
        out["members"] = {name: member_ref(ref) for name, ref in shape.get("members", {}).items()}
    elif shape["type"] == "list":
        out["member"] = member_ref(shape["member"])
    elif shape["type"] == "map":
        out["key"] = member_ref(shape["key"])
        out["value"] = member_ref(shape["value"])
    if shape["type"] in ("integer", "long"):
        for k in ("min", "max"):
            if k in shape:
                out[k] = shape[k]
    if "locationName" in shape:  # a handful of shapes carry a locationName of their own
        out["locationName"] = shape["locationName"]
    return out


def closure(shapes, roots):
    seen = set()
    stack = list(roots)
    while stack:
        name = stack.pop()
        if name in seen:
            continue
        if name not in shapes:
            sys.exit(f"extract.py: shape {name} is referenced but not defined in the model")
        seen.add(name)
        shape = shapes[name]
        refs = list(shape.get("members", {}).values())
        refs += [shape[k] for k in ("member", "key", "value") if k in shape]
        stack.extend(ref["shape"] for ref in refs)
    return seen


def extract(model, source, version):
    ops = {}
    roots = []
    for name in OPERATIONS:
        if name not in model["operations"]:
            sys.exit(f"extract.py: operation {name} is not in the model")
        op = model["operations"][name]
        entry = {}
        for io in ("input", "output"):
            if io in op:
                entry[io] = op[io]["shape"]
                roots.append(op[io]["shape"])
        ops[name] = entry
    shapes = {name: slim_shape(model["shapes"][name]) for name in sorted(closure(model["shapes"], roots))}
    meta = model["metadata"]
    return {
        "_origin": {
            "source": source,
            "package": f"botocore {version}" if version else "unknown",
            "upstream": "https://github.com/boto/botocore/blob/develop/botocore/data/ec2/2016-11-15/service-2.json",
            "licence": "Apache-2.0",
            "copyright": "Copyright Amazon.com, Inc. or its affiliates. All Rights Reserved.",
            "note": "Generated by scripts/ec2-model/extract.py; do not edit by hand. Documentation, enums and patterns removed.",
        },
        "metadata": {k: meta[k] for k in ("apiVersion", "protocol", "xmlNamespace", "endpointPrefix", "signatureVersion")},
        "operations": ops,
        "shapes": shapes,
    }


TS_RESERVED = {"Timestamp", "Operations", "OperationName", "NoOutput", "operationNames"}
TS_SCALARS = {
    "string": "string", "integer": "number", "long": "number", "double": "number", "float": "number",
    "boolean": "boolean", "timestamp": "Timestamp", "blob": "Uint8Array",
}


def ts_type(shapes, name):
    shape = shapes[name]
    t = shape["type"]
    if t in TS_SCALARS:
        return TS_SCALARS[t]
    if t == "list":
        return f"ReadonlyArray<{ts_type(shapes, shape['member']['shape'])}>"
    if t == "map":
        return f"Readonly<Record<string, {ts_type(shapes, shape['value']['shape'])}>>"
    if t == "structure":
        return name
    sys.exit(f"extract.py: shape {name} has unsupported type {t}")


def typescript(result):
    shapes = result["shapes"]
    lines = [
        "// Generated by scripts/ec2-model/extract.py from botocore's EC2 service model",
        f"// ({result['_origin']['package']}, Apache-2.0, {result['_origin']['copyright']}). Do not edit by hand.",
        "// One interface per structure of ec2-model.json, members named as in the model (and as in",
        "// @aws-sdk/client-ec2). Members listed as required by the model are not optional.",
        "",
        "/** Epoch milliseconds (the house unit for time). */",
        "export type Timestamp = number",
        "",
        "/** The output of operations the model gives no output shape; EC2 answers `<return>true</return>`. */",
        "export type NoOutput = Readonly<Record<string, never>>",
        "",
    ]
    for name, shape in shapes.items():
        if shape["type"] != "structure":
            continue
        if name in TS_RESERVED:
            sys.exit(f"extract.py: shape name {name} collides with a generated helper name")
        required = set(shape.get("required", []))
        members = shape["members"]
        if not members:
            lines.append(f"export type {name} = Readonly<Record<string, never>>")
            lines.append("")
            continue
        lines.append(f"export interface {name} {{")
        for mname, ref in members.items():
            opt = "" if mname in required else "?"
            lines.append(f"  readonly {mname}{opt}: {ts_type(shapes, ref['shape'])}")
        lines.append("}")
        lines.append("")
    lines.append("export interface Operations {")
    for op, io in result["operations"].items():
        out = io.get("output", "NoOutput")
        lines.append(f"  readonly {op}: {{ readonly input: {io['input']}; readonly output: {out} }}")
    lines.append("}")
    lines.append("")
    lines.append("export type OperationName = keyof Operations")
    lines.append("")
    lines.append("export const operationNames: ReadonlyArray<OperationName> = [")
    for op in result["operations"]:
        lines.append(f'  "{op}",')
    lines.append("]")
    return "\n".join(lines) + "\n"


def dump(result):
    """JSON with one shape (or operation) per line: small, and diffs stay readable."""
    compact = lambda v: json.dumps(v, separators=(",", ":"))
    out = ["{"]
    out.append(f' "_origin": {json.dumps(result["_origin"], indent=None)},')
    out.append(f' "metadata": {compact(result["metadata"])},')
    for key in ("operations", "shapes"):
        entries = list(result[key].items())
        out.append(f' "{key}": {{')
        for i, (name, value) in enumerate(entries):
            comma = "," if i < len(entries) - 1 else ""
            out.append(f"  {json.dumps(name)}: {compact(value)}{comma}")
        out.append(" }," if key == "operations" else " }")
    out.append("}")
    return "\n".join(out) + "\n"


def write_or_check(path, text, check):
    if check:
        try:
            with open(path, encoding="utf-8") as f:
                current = f.read()
        except FileNotFoundError:
            current = None
        if current != text:
            sys.exit(f"extract.py: {path} is out of date; run python3 scripts/ec2-model/extract.py")
        return
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    repo = os.path.dirname(os.path.dirname(here))
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("model", nargs="?", help="service-2.json or service-2.json.gz (default: installed botocore)")
    out_dir = os.path.join(repo, "src", "api", "protocol")
    p.add_argument("--check", action="store_true", help="compare with the committed files instead of writing them")
    args = p.parse_args()
    if args.model:
        path, version = args.model, None
    else:
        path, version = default_model_path()
    result = extract(load(path), "botocore/data/ec2/2016-11-15/" + os.path.basename(path), version)
    text = dump(result)
    json_path = os.path.join(out_dir, "ec2-model.json")
    ts_path = os.path.join(out_dir, "Ec2Shapes.ts")
    write_or_check(json_path, text, args.check)
    write_or_check(ts_path, typescript(result), args.check)
    if not args.check:
        print(f"{json_path}: {len(result['operations'])} operations, {len(result['shapes'])} shapes, {len(text)} bytes")
        print(f"{ts_path}: generated")


if __name__ == "__main__":
    main()
