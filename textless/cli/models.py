"""``textless models list | info NAME | download NAME | import PATH --as NAME``."""

from __future__ import annotations

import json

from ..bundle import COMPONENT_ROLES, ROLES, recorded_sha256, sha256_status


def register(commands, groups):
    models = groups["models"]
    p = models.add_parser("list", help="every registered bundle with its files and sha256")
    p.add_argument("--role", "--kind", dest="role", choices=ROLES,
                   help="only bundles of this role (--kind is the older spelling)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_list)

    p = models.add_parser("info", help="everything known about one bundle")
    p.add_argument("name")
    p.set_defaults(func=cmd_info)

    p = models.add_parser(
        "download", help="fetch a bundle's files into the cache ($TEXTLESS_HOME/hub), checking sha256"
    )
    p.add_argument("name")
    p.set_defaults(func=cmd_download)

    p = models.add_parser(
        "import",
        help="put a local file into the cache as a bundle's file (sha256 checked), "
        "or register it under a new name",
        description="For a registered NAME the file must match one of its sha256 sums and is "
        "copied into the cache, so the bundle works offline. For a new NAME give --role.",
    )
    p.add_argument("path")
    p.add_argument("--as", dest="name", required=True, metavar="NAME")
    p.add_argument("--role", "--kind", dest="role", choices=COMPONENT_ROLES,
                   help="what the file is, for a new NAME (--kind is the older spelling)")
    p.set_defaults(func=cmd_import)


def cmd_list(args):
    from .. import hub

    bundles = [b for b in hub.registry().values() if args.role in (None, b.role)]
    if args.json:
        print(json.dumps([b.info() for b in bundles], indent=2))
        return
    for b in bundles:
        rates = ", ".join(
            x for x in (
                f"{b.frame_rate:g} Hz" if b.frame_rate else "",
                f"L{b.layer}" if b.layer else "",
                f"V={b.vocab_size}" if b.vocab_size else "",
            ) if x
        )
        what = f"{b.role}.{b.format}" if b.format else b.role
        print(f"{b.name}  [{what}{', ' + rates if rates else ''}]  {b.description}")
        for c in b.components:
            print(f"    component  {c.name}")
        for f in b.files:
            mark = "cached" if f.cached_path().is_file() else "      "
            status = sha256_status(f)
            sha = f.sha256 or (recorded_sha256(f) if status.startswith("recorded") else None) or "-"
            note = "" if status in ("published", "package file") else f" ({status})"
            print(f"    {mark}  {f.role:<10}  sha256 {sha}{note}  {f.url}")


def cmd_info(args):
    """JSON of the bundle; each file's ``sha256_status`` says how its hash is known
    (``published`` or ``recorded on first use <date>``), with the recorded hash."""
    from .. import hub

    info = hub.get_bundle(args.name).info()
    for f, rf in zip(info["files"], hub.get_bundle(args.name).files):
        if f["sha256"] is None and f["sha256_status"].startswith("recorded"):
            f["sha256_recorded"] = recorded_sha256(rf)
    print(json.dumps(info, indent=2))


def cmd_download(args):
    from .. import hub

    bundle = hub.get_bundle(args.name)
    for b in (bundle, *bundle.components):
        for role, path in b.fetch(progress=True).items():
            print(f"{b.name}  {role}  {path}")


def cmd_import(args):
    from .. import hub

    bundle = hub.import_file(args.path, args.name, role=args.role)
    print(f"imported {args.path} as {bundle.name}")
