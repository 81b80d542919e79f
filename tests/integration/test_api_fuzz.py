"""Schemathesis against a live server (issue 16, finding 5): the OpenAPI document is exact.

Every operation of /api/v1 and /tiles is fuzzed, signed in as an agency admin of an agency of
its own (so nothing another test reads is touched), with the ids of real records of that
agency offered beside ids that exist nowhere. All of schemathesis's checks run but one:
``positive_data_acceptance`` expects every schema-valid body to be accepted, and no schema can
say "inside the service area" or "a category that exists" (those are 422s naming the field,
which the document lists). Bounded: a fixed seed and a few examples per operation.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

from tests.conftest import require
from tests.integration import live

EXAMPLES = 6
OBS = {
    "occurred_at": "2026-10-20T18:30:00Z",
    "geometry": {"type": "Point", "coordinates": [1.2, 54.6]},
    "category": "suspected_drug_running",
    "note": "fuzz",
}


def _real_records(s: Any, base: str) -> dict[str, list[str]]:
    def made(path: str, body: dict[str, Any]) -> str:
        resp = s.post(base + path, json=body, timeout=30)
        assert resp.status_code == 201, resp.text[:300]
        return str(resp.json()["id"])

    context = {
        "kind": "hotspot",
        "name": "Fuzz park",
        "geometry": {"type": "Point", "coordinates": [1.2, 54.6]},
    }
    return {
        "observation_id": [made("/api/v1/observations", OBS)],
        "context_id": [made("/api/v1/contexts", context)],
        "vehicle_id": [made("/api/v1/vehicles", {"registration_mark": "FZ12 ABC"})],
    }


def _offer(doc: dict[str, Any], ids: dict[str, list[str]]) -> None:
    """Path ids: one of the agency's real records, or one that exists nowhere."""
    nowhere = str(uuid.uuid4())
    for ops in doc["paths"].values():
        for op in ops.values():
            for param in op.get("parameters", []):
                if param["in"] == "path" and param["name"].endswith("_id"):
                    real = ids.get(param["name"], [])
                    param["schema"] = {**param["schema"], "enum": [*real, nowhere]}


def test_schemathesis_finds_no_failure(
    test_db: dict[str, str], make_agency: Any, make_user: Any, tmp_path: Path
) -> None:
    st = shutil.which("st", path=str(Path(sys.executable).parent))
    require(st is not None, "schemathesis is not installed (make venv installs it)")
    user = make_user(make_agency("police", "Fuzz"), "agency_admin")
    with live.serve(test_db["app"], workers=2) as server:
        s = live.signed_in_session(server.base, user)
        ids = _real_records(s, server.base)
        doc = s.get(server.base + "/api/v1/openapi.json", timeout=30).json()
        _offer(doc, ids)
        schema = tmp_path / "openapi.json"
        schema.write_text(json.dumps(doc))
        # The session cookie and the CSRF header as the document's security schemes, so the
        # fuzzer knows them for what they are (and leaves them out to test refusals).
        config = tmp_path / "schemathesis.toml"
        config.write_text(
            "[auth.openapi.session]\n"
            f'api_key = "{s.cookies.get("csmap")}"\n'
            "[auth.openapi.csrf]\n"
            f'api_key = "{s.headers["X-CSRFToken"]}"\n'
        )
        cmd = [
            str(st),
            "--config-file",
            str(config),
            "--no-color",
            "run",
            str(schema),
            "--url",
            server.base,
            "--header",
            f"User-Agent: {live.USER_AGENT}",
            "--checks",
            "all",
            "--exclude-checks",
            "positive_data_acceptance",
            "--max-examples",
            str(EXAMPLES),
            "--seed",
            "16",
            "--workers",
            "2",
            "--request-timeout",
            "60",
            "--suppress-health-check",
            "all",
        ]
        result = subprocess.run(
            cmd, capture_output=True, text=True, timeout=900, cwd=tmp_path, check=False
        )
        output = result.stdout + result.stderr
        assert result.returncode == 0, output[-30000:]
        assert "Traceback" not in server.log()
