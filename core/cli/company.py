"""`python -m core company ...`: who the support assistant speaks for (the Knowledge base page's
Company tab).

    python -m core company show [--json]
    python -m core company set --file company.json   # {"name", "topics", "greeting", "handover"}
    python -m core company reset

`topics`, `greeting` and `handover` hold "en" and "zh" texts; an empty greeting or hand-over is
written from the name and topics. Every change is recorded in the audit log as `cli:<OS user>`.
"""

from __future__ import annotations

import json
from pathlib import Path

from core.cli.common import add_command, audit, print_result
from core.storage.company import Company, CompanyStore

FILE_MAX = 64_000  # a profile is a few hundred characters: anything bigger is not one


def _store(settings) -> CompanyStore:
    return CompanyStore(settings.db_path, settings.company_name)


def _shown(company: Company) -> dict:
    return {**company.to_dict(), "says": {"greeting": company.greeting_texts(), "handover": company.handover_texts()}}


def cmd_company_show(args, settings):
    company = _store(settings).get()
    print_result(args, _shown(company), json.dumps(_shown(company), ensure_ascii=False, indent=2))


def cmd_company_set(args, settings):
    path = Path(args.file)
    if not path.is_file() or path.stat().st_size > FILE_MAX:
        raise ValueError(f"{path}: not a company profile (a JSON file under {FILE_MAX // 1000} kB)")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected an object with name, topics, greeting, handover")
    company = Company.from_dict(data)
    _store(settings).save(company)
    audit(settings, "company.save", company.name, company.to_dict())
    print_result(args, _shown(company), f"Saved: the support assistant now speaks for {company.name}")


def cmd_company_reset(args, settings):
    store = _store(settings)
    store.reset()
    company = store.get()
    audit(settings, "company.reset", company.name)
    print_result(args, _shown(company), f"Back to the default: {company.name}")


def register(sub) -> None:
    company = sub.add_parser("company", help="who the support assistant speaks for").add_subparsers(
        dest="action", required=True
    )
    add_command(company, "show", cmd_company_show, "the company's name, topics, greeting and hand-over")
    p = add_command(company, "set", cmd_company_set, "save the company's profile from a JSON file")
    p.add_argument("--file", required=True)
    add_command(company, "reset", cmd_company_reset, "back to the default profile")
