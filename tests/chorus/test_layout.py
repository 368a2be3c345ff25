"""Each process loads only its half: the worker never the web layer, the API never the mail transport."""

from __future__ import annotations

import json
import os
import subprocess
import sys

WORKER_IMPORTS = """
import json, sys
from chorus.celery import app
app.loader.import_default_modules()
tasks = sorted(t for t in app.tasks if not t.startswith("celery."))
print(json.dumps({"modules": sorted(sys.modules), "tasks": tasks}))
"""

API_IMPORTS = """
import json, sys
import chorus.api
print(json.dumps({"modules": sorted(sys.modules)}))
"""


def _fresh_process(code: str) -> dict[str, list[str]]:
    result = subprocess.run(
        [sys.executable, "-c", code], env=os.environ, capture_output=True, text=True, timeout=60, check=True
    )
    return dict(json.loads(result.stdout))


def test_the_worker_registers_every_task_without_loading_the_web_layer() -> None:
    seen = _fresh_process(WORKER_IMPORTS)
    assert "fastapi" not in seen["modules"]
    assert "starlette" not in seen["modules"]
    assert not [m for m in seen["modules"] if ".scenes" in m]
    assert set(seen["tasks"]) >= {
        "auth.send_verification_email",
        "auth.send_password_reset_email",
        "auth.purge_expired_tokens",
        "accounts.erase_account",
        "accounts.erase_deleted_accounts",
    }


def test_importing_the_api_loads_no_mail_transport() -> None:
    modules = _fresh_process(API_IMPORTS)["modules"]
    assert "chorus.adapters.mailer" not in modules
    assert "smtplib" not in modules


def test_importing_the_celery_app_imports_no_act() -> None:
    modules = _fresh_process("import json, sys, chorus.celery; print(json.dumps({'modules': list(sys.modules)}))")
    assert not [m for m in modules["modules"] if m.startswith("chorus.acts.")]
