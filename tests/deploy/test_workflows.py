""".github/workflows: CI runs lint, `make test`, the web build; deploy builds, pushes, migrates, rolls out."""

from __future__ import annotations

import re
from typing import Any

from tests.deploy.support import REPO, load_yaml, named, of_kind, render

WORKFLOWS = REPO / ".github" / "workflows"


def workflow(name: str) -> dict[str, Any]:
    raw: dict[Any, Any] = load_yaml(WORKFLOWS / name)
    # YAML 1.1 reads the bare key `on` as a boolean.
    return {"on" if key is True else str(key): value for key, value in raw.items()}


def runs(job: dict[str, Any]) -> str:
    return "\n".join(step.get("run", "") for step in job["steps"])


def uses(job: dict[str, Any]) -> list[str]:
    return [step["uses"] for step in job["steps"] if "uses" in step]


def test_workflows_parse_and_pin_their_actions() -> None:
    for path in sorted(WORKFLOWS.glob("*.yml")):
        data = workflow(path.name)
        assert data["name"] and data["on"] and data["jobs"], path.name
        for job in data["jobs"].values():
            assert job["runs-on"] and job["timeout-minutes"] > 0
            for action in uses(job):
                assert re.fullmatch(r"[\w.-]+/[\w./-]+@v\d+(\.\d+)*", action), f"{path.name}: {action}"


def test_ci_lints_tests_and_builds_the_web() -> None:
    ci = workflow("ci.yml")
    assert "pull_request" in ci["on"] and ci["on"]["push"]["branches"] == ["main"]
    assert ci["env"]["PIP_EXTRA_INDEX_URL"] == "https://download.pytorch.org/whl/cpu", "CPU torch in CI"
    jobs = ci["jobs"]
    assert "make lint typecheck" in runs(jobs["lint"])
    assert re.search(r"^make test$", runs(jobs["test"]), re.MULTILINE)
    assert "make test-web" in runs(jobs["web"])
    makefile = (REPO / "Makefile").read_text()
    for target in ("test", "lint", "typecheck", "test-web"):
        assert re.search(rf"^{re.escape(target)}:", makefile, re.MULTILINE), target
    image = next(
        s for s in jobs["image"]["steps"] if s.get("uses", "").startswith("docker/build-push-action")
    )
    assert image["with"]["push"] is False
    assert (REPO / image["with"]["file"]).is_file()


def test_deploy_builds_pushes_migrates_and_rolls_out() -> None:
    deploy = workflow("deploy.yml")
    assert deploy["on"]["workflow_run"]["workflows"] == ["CI"]
    assert deploy["permissions"]["id-token"] == "write", "OIDC to AWS, no long-lived keys"
    images = deploy["jobs"]["images"]
    assert "aws-actions/amazon-ecr-login@v2" in uses(images)
    dockerfiles = {entry["dockerfile"] for entry in images["strategy"]["matrix"]["include"]}
    assert dockerfiles == {"deploy/docker/cpu.Dockerfile", "deploy/docker/gpu.Dockerfile"}
    push = next(s for s in images["steps"] if s.get("uses", "").startswith("docker/build-push-action"))
    assert push["with"]["push"] is True
    assert ".dkr.ecr." not in push["with"]["tags"], "the registry comes from the ECR login step"

    rollout = deploy["jobs"]["rollout"]
    assert rollout["needs"] == "images"
    script = runs(rollout)
    assert "aws eks update-kubeconfig" in script
    assert "kustomize edit set image" in script and "kubectl kustomize ." in script
    # migrations finish before the services roll
    migrate_at = script.index("wait --for=condition=complete job/ayka-migrate")
    assert migrate_at < script.index('kubectl apply -f "$RUNNER_TEMP/ayka.yaml"\n')
    named(render("prod"), "Job", "ayka-migrate")
    deployments = {d["metadata"]["name"] for d in of_kind(render("prod"), "Deployment")}
    rolled = re.search(r"for d in ([\w ]+); do", script)
    assert rolled is not None
    assert {f"ayka-{name}" for name in rolled.group(1).split()} | {"ayka-gateway"} == deployments
    # the bus's readers before the gateway that publishes audio (a reader understands an older gateway)
    assert "gateway" not in rolled.group(1).split()
    assert rolled.start() < script.index("rollout status deployment/ayka-gateway")
    assert (REPO / "deploy" / "k8s" / "overlays" / "prod" / "kustomization.yaml").is_file()
