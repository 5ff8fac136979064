"""deploy/README.md and deploy/aws: the guide names only files that exist and agrees with the manifests."""

from __future__ import annotations

import json
import re

import pytest

from tests.deploy.support import DEPLOY, REPO, load_yaml, named, render

GUIDE = DEPLOY / "README.md"


def guide() -> str:
    return GUIDE.read_text()


def test_every_path_the_guide_names_exists() -> None:
    paths = set(
        re.findall(r"`((?:deploy|\.github|tests)/[\w./{},-]+|docker-compose\.yml|\.env\.example)`", guide())
    )
    assert len(paths) > 15
    for path in paths:
        for expanded in _expand_braces(path):
            assert (REPO / expanded).exists(), f"deploy/README.md names {expanded}, which does not exist"


def _expand_braces(path: str) -> list[str]:
    match = re.search(r"\{([^}]*)\}", path)
    if not match:
        return [path]
    return [
        expanded
        for option in match.group(1).split(",")
        for expanded in _expand_braces(path[: match.start()] + option + path[match.end() :])
    ]


def test_the_guide_covers_every_service_and_alert() -> None:
    text = guide()
    compose = load_yaml(REPO / "docker-compose.yml")
    for service in ("gateway", "asr", "diarize", "recorder", "agents", "webhooks", "migrate"):
        assert service in compose["services"]
        assert f"`{service}`" in text or f"| {service} |" in text, service
    for group in load_yaml(DEPLOY / "monitoring" / "alerts.yml")["groups"]:
        for rule in group["rules"]:
            assert f"`{rule['alert']}`" in text, rule["alert"]


@pytest.mark.parametrize(
    "topic",
    [
        "ALB",
        "EKS",
        "RDS",
        "Glacier",
        "after 90 days",
        "versioning",
        "point-in-time",
        "Secrets Manager",
        "ACM",
        "g4dn.xlarge",
        "MVP",
        "Growth",
        "Scale",
        "TLS",
    ],
)
def test_the_guide_covers_the_reference_deployment(topic: str) -> None:
    assert topic in guide()


def test_cost_table_has_a_total_per_phase() -> None:
    rows = [line for line in guide().splitlines() if line.startswith("| **total")]
    assert len(rows) == 2
    for row in rows:
        assert len(re.findall(r"\$[\d,]+", row)) >= 3


def test_autoscaling_ranges_in_the_guide_match_the_manifests() -> None:
    text = guide()
    for hpa in ("ayka-gateway", "ayka-asr"):
        base = named(render("base"), "HorizontalPodAutoscaler", hpa)["spec"]
        prod = named(render("prod"), "HorizontalPodAutoscaler", hpa)["spec"]
        base_range = f"{base['minReplicas']}..{base['maxReplicas']}"
        expected = f"{base_range} (prod {prod['minReplicas']}..{prod['maxReplicas']})"
        assert expected in text, f"{hpa}: {expected}"


def test_s3_lifecycle_moves_the_archive_to_glacier_after_90_days() -> None:
    rules = json.loads((DEPLOY / "aws" / "s3-lifecycle.json").read_text())["Rules"]
    archive = next(rule for rule in rules if rule["Filter"].get("Prefix") == "archive/")
    assert archive["Status"] == "Enabled"
    assert {"Days": 90, "StorageClass": "GLACIER"} in archive["Transitions"]
    config = named(render("prod"), "ConfigMap", "ayka-config")["data"]
    bucket, _, prefix = config["AYKA_ARCHIVE_URL"].removeprefix("s3://").partition("/")
    assert f"{prefix}/" == archive["Filter"]["Prefix"]
    policy = json.loads((DEPLOY / "aws" / "irsa-policy.json").read_text())
    resources = {statement["Resource"] for statement in policy["Statement"]}
    assert f"arn:aws:s3:::{bucket}" in resources and f"arn:aws:s3:::{bucket}/{prefix}/*" in resources


def test_the_gpu_node_group_is_what_the_gpu_pods_select() -> None:
    cluster = load_yaml(DEPLOY / "aws" / "eksctl-cluster.yaml")
    gpu = next(group for group in cluster["managedNodeGroups"] if group["name"] == "gpu")
    pod = named(render("prod"), "Deployment", "ayka-asr")["spec"]["template"]["spec"]
    assert pod["nodeSelector"].items() <= gpu["labels"].items()
    for taint in gpu["taints"]:
        assert any(
            tol["key"] == taint["key"] and tol["effect"] == taint["effect"] and tol["operator"] == "Exists"
            for tol in pod["tolerations"]
        )
    assert cluster["iam"]["withOIDC"] is True
    account = named(render("prod"), "ServiceAccount", "ayka")
    assert account["metadata"]["annotations"]["eks.amazonaws.com/role-arn"].startswith("arn:aws:iam::")
