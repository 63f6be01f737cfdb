"""`python -m core backup` and `python -m core restore` (core/backup.py).

python -m core backup --out FILE.tar.gz [--json]      # safe while the app runs
python -m core restore FILE.tar.gz [--force] [--json] # stop the app first
python -m core restore FILE.tar.gz --check [--json]   # verify only, change nothing
"""

from __future__ import annotations

from pathlib import Path

from core.cli.common import add_command, audit, print_result
from core.storage.backup import backup, restore, verify


def cmd_backup(args, settings):
    result = backup(settings, Path(args.out))
    audit(settings, "backup", result["archive"], {"members": result["members"], "bytes": result["bytes"]})
    skipped = "; ".join(f"{s['path']} ({s['reason']})" for s in result["skipped"] if s["path"].endswith("/"))
    server = "" if result["kb_store"].startswith("embedded") else f"\nKnowledge base: {result['kb_store']}"
    print_result(
        args,
        result,
        f"Backed up {result['members']} files ({result['bytes'] / 1e6:.1f} MB) to {result['archive']}"
        + (f"\nNot included: {skipped}" if skipped else "")
        + server,
    )


def cmd_restore(args, settings):
    if args.check:
        manifest = verify(Path(args.archive))
        payload = {
            "ok": True,
            "archive": args.archive,
            "created": manifest.get("created"),
            "members": len(manifest["members"]),
            "counts": manifest.get("counts", {}),
        }
        print_result(args, payload, f"{args.archive}: intact ({payload['members']} files, made {payload['created']})")
        return
    result = restore(settings, Path(args.archive), force=args.force)
    audit(
        settings,
        "restore",
        result["archive"],
        {"created": result["created"], "members": result["members"], "replaced": result["replaced"]},
    )
    text = (
        f"Restored {result['members']} files from {result['archive']} (made {result['created']}) "
        f"into {result['restored']}"
    )
    print_result(args, result, "\n".join([text, *result["warnings"]]))


def register(sub) -> None:
    """Add this module's sub-commands to the top-level parser."""
    add = add_command
    p = add(sub, "backup", cmd_backup, "write a backup of all app data (not the model cache) to a .tar.gz")
    p.add_argument("--out", required=True, help="the archive to write, e.g. backup-2025-01-31.tar.gz")
    p = add(sub, "restore", cmd_restore, "restore a backup made by `backup` (checks it first; stop the app)")
    p.add_argument("archive")
    p.add_argument("--force", action="store_true", help="replace the data that is there now")
    p.add_argument("--check", action="store_true", help="only verify the archive; change nothing")
