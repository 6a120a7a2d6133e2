"""`govcloud output`: the handover record (交付清单) from specs, state and the cloud's addresses;
escaped for Markdown and HTML; the credential's path, never its secret."""
from __future__ import annotations

import ipaddress

from tests.policy.builders import approval, workspace

HOSTILE = approval("BZ-H", dept=("edu", "<script>alert(1)</script>|市教育局*"))
HOSTILE["zones"]["internet"].update(public_ips=1, bandwidth_mbps=10)


def _ws(tmp_path, cli):
    ws = workspace(tmp_path, "bazhong", HOSTILE)
    assert cli("compile", "-C", ws).exit_code == 0, cli("compile", "-C", ws).output
    return ws


def test_before_apply_the_record_says_not_delivered(tmp_path, cli):
    ws = _ws(tmp_path, cli)
    d = cli("output", "-C", ws, "--output", "json").json()
    assert d["format"] == "govcloud-output/1"
    (s,) = d["systems"]
    assert s["delivered"] is False and any("not delivered" in w for w in d["warnings"])
    assert all(v["fixed_ip"] is None and v["status"] == "not created"
               for z in s["zones"] for v in z["servers"])


def test_after_apply_servers_have_fixed_ips_in_their_subnet_and_floating_ips(tmp_path, cli):
    ws = _ws(tmp_path, cli)
    assert cli("apply", "-C", ws, "--auto-approve").exit_code == 0
    cred = ws / ".govcloud" / "credentials" / "dom1__edu-portal-internet.json"
    cred.parent.mkdir(parents=True)
    cred.write_text('{"auth": {"application_credential_secret": "S3CRET-never-shown"}}')
    r = cli("output", "edu-portal", "-C", ws, "--output", "json")
    assert r.exit_code == 0, r.output
    d = r.json()
    (s,) = d["systems"]
    assert s["delivered"] is True and d["warnings"] == []
    (z,) = s["zones"]
    assert z["project"] == "edu-portal-internet" and z["project_id"]
    net = ipaddress.ip_network(z["subnet"]["cidr"])
    ips = [v["fixed_ip"] for v in z["servers"]]
    assert len(ips) == 2 and len(set(ips)) == 2
    assert all(ipaddress.ip_address(ip) in net and ip != z["subnet"]["gateway_ip"] for ip in ips)
    (fip,) = z["floating_ips"]
    assert ipaddress.ip_address(fip["address"]) in ipaddress.ip_network("198.51.100.0/24")
    assert z["credential_file"] == ".govcloud/credentials/dom1__edu-portal-internet.json"
    for fmt in ("json", "markdown", "html", "text"):
        assert "S3CRET" not in cli("output", "-C", ws, "--output", fmt).output


def test_markdown_and_html_escape_what_the_approval_says(tmp_path, cli):
    ws = _ws(tmp_path, cli)
    html = cli("output", "-C", ws, "--output", "html").output
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    md = cli("output", "-C", ws, "--output", "markdown").output
    assert "<script>" not in md and r"\<script\>" in md and r"\|市教育局\*" in md
    # the table row stays one row of two cells: the | in the name is escaped
    row = next(line for line in md.splitlines() if line.startswith("| 使用单位"))
    assert row.replace(r"\|", "").count("|") == 3


def test_an_unknown_system_is_an_error_naming_the_fix(tmp_path, cli):
    ws = _ws(tmp_path, cli)
    r = cli("output", "no-such", "-C", ws, "--output", "json")
    assert r.exit_code == 1 and r.json()["fix"]
