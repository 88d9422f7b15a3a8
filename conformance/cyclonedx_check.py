"""CycloneDX conformance: the ML-BOM fixture imports, and the inventory it becomes exports as a
BOM that cyclonedx-python-lib's strict JSON validator accepts as CycloneDX 1.6.

Env: ANNEXA_URL, ANNEXA_ADMIN_EMAIL, ANNEXA_ADMIN_PASSWORD, ANNEXA_FIXTURE (a BOM to import),
ANNEXA_ORG_ID (optional: the scenario's organization; a new one otherwise).
"""

import json
import os
import sys
import urllib.parse
import urllib.request

from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

BASE = os.environ["ANNEXA_URL"]
CDX = "application/vnd.cyclonedx+json"


def call(method, path, token=None, body=None, content_type=None, accept="application/json"):
    headers = {"Accept": accept}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if content_type:
        headers["Content-Type"] = content_type
    req = urllib.request.Request(BASE + path, data=body, method=method, headers=headers)
    with urllib.request.urlopen(req, timeout=30) as res:
        return res.status, res.headers.get("Content-Type", ""), res.read()


def main() -> int:
    form = urllib.parse.urlencode({
        "grant_type": "password",
        "username": os.environ["ANNEXA_ADMIN_EMAIL"],
        "password": os.environ["ANNEXA_ADMIN_PASSWORD"],
    }).encode()
    _, _, raw = call("POST", "/api/v1/auth/token", body=form,
                     content_type="application/x-www-form-urlencoded")
    token = json.loads(raw)["access_token"]
    org_id = os.environ.get("ANNEXA_ORG_ID")
    if not org_id:
        _, _, raw = call("POST", "/api/v1/organizations", token,
                         json.dumps({"name": "CycloneDX check"}).encode(), "application/json")
        org_id = json.loads(raw)["id"]
    validator = JsonStrictValidator(SchemaVersion.V1_6)
    failures = []

    fixture = open(os.environ["ANNEXA_FIXTURE"], encoding="utf-8").read()
    error = validator.validate_str(fixture)
    if error is not None:
        failures.append(f"the fixture is not valid CycloneDX 1.6: {error}")

    status, _, raw = call("POST", f"/api/v1/organizations/{org_id}/assets/import", token,
                          fixture.encode(), CDX)
    report = json.loads(raw)
    print(f"  import: {status}, created {report['created']['count']}, skipped {report['skipped']}")
    if status != 200 or report["created"]["count"] + report["unchanged"]["count"] == 0:
        failures.append(f"the import answered {status}: {report}")

    status, content_type, raw = call("GET", f"/api/v1/organizations/{org_id}/assets", token,
                                     accept=CDX)
    bom = raw.decode()
    print(f"  export: {status} {content_type}, {len(json.loads(bom)['components'])} components")
    if status != 200 or not content_type.startswith(CDX):
        failures.append(f"the export answered {status} {content_type}")
    error = validator.validate_str(bom)
    if error is not None:
        failures.append(f"the export is not valid CycloneDX 1.6: {error}")

    for failure in failures:
        print(f"  FAIL: {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
