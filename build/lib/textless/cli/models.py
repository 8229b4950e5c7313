"""``textless models list | info NAME | download NAME | import PATH --as NAME``."""

from __future__ import annotations

import json

from .. import hub


def register(commands, groups):
    models = groups["models"]
    p = models.add_parser("list", help="every registered bundle with its files and sha256")
    p.add_argument("--kind", choices=hub.KINDS, help="only bundles of this kind")
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
        "copied into the cache, so the bundle works offline. For a new NAME give --kind.",
    )
    p.add_argument("path")
    p.add_argument("--as", dest="name", required=True, metavar="NAME")
    p.add_argument("--kind", choices=["encoder", "quantizer", "ulm", "vocoder"])
    p.set_defaults(func=cmd_import)


def cmd_list(args):
    bundles = [b for b in hub.all_bundles().values() if args.kind in (None, b.kind)]
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
        print(f"{b.name}  [{b.kind}{', ' + rates if rates else ''}]  {b.description}")
        for name in b.components:
            print(f"    component  {name}")
        for f in b.files:
            mark = "cached" if f.cached_path().is_file() else "      "
            print(f"    {mark}  {f.role:<10}  sha256 {f.sha256 or '-'}  {f.url}")


def cmd_info(args):
    print(json.dumps(hub.get_bundle(args.name).info(), indent=2))


def cmd_download(args):
    bundle = hub.get_bundle(args.name)
    names = [bundle.name, *bundle.components]
    for name in names:
        for role, path in hub.get_bundle(name).fetch(progress=True).items():
            print(f"{name}  {role}  {path}")


def cmd_import(args):
    bundle = hub.import_file(args.path, args.name, kind=args.kind)
    print(f"imported {args.path} as {bundle.name}")
