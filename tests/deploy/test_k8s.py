"""deploy/k8s: every overlay renders with kustomize (kubectl) and validates against the Kubernetes schemas
(kubernetes-validate, offline); then the checks a schema cannot make."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import kubernetes_validate  # type: ignore[import-untyped]
import pytest

from tests.deploy.support import (
    AYKA_COMMANDS,
    K8S,
    OVERLAYS,
    Manifest,
    image_is_pinned,
    load_yaml,
    named,
    of_kind,
    pod_specs,
    render,
)

# The schemas of the cluster version the reference EKS cluster runs.
KUBERNETES_VERSION: str = load_yaml(K8S.parent / "aws" / "eksctl-cluster.yaml")["metadata"]["version"]
CUSTOM_KINDS = {"ExternalSecret", "SecretStore"}  # CRDs of the External Secrets Operator
SERVICES = ("gateway", "asr", "diarize", "recorder", "agents", "webhooks")
GPU_SERVICES = ("asr", "diarize")


def validate(doc: Manifest) -> None:
    kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


@pytest.mark.parametrize("overlay", ("base", *OVERLAYS))
def test_overlay_renders_and_matches_the_schemas(overlay: str) -> None:
    docs = render(overlay)
    kinds = {doc["kind"] for doc in docs}
    assert {
        "Deployment",
        "Service",
        "Ingress",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
        "Job",
    } <= kinds
    assert kinds >= CUSTOM_KINDS
    for doc in docs:
        if doc["kind"] not in CUSTOM_KINDS:
            validate(doc)
        assert doc["metadata"].get("namespace", "ayka") == "ayka" or doc["kind"] == "Namespace"


def test_the_schema_check_rejects_a_broken_manifest() -> None:
    deployment = copy.deepcopy(named(render("prod"), "Deployment", "ayka-gateway"))
    deployment["spec"]["replicas"] = "three"
    with pytest.raises(kubernetes_validate.ValidationError):
        validate(deployment)
    deployment = copy.deepcopy(named(render("prod"), "Deployment", "ayka-gateway"))
    deployment["spec"]["template"]["spec"]["containers"][0]["livenessProbe"]["httpGett"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        validate(deployment)


def _kustomization_files(directory: Path) -> list[Path]:
    kustomization = load_yaml(directory / "kustomization.yaml")
    paths = [directory / entry for entry in kustomization.get("resources", [])]
    paths += [directory / patch["path"] for patch in kustomization.get("patches", []) if "path" in patch]
    return paths


@pytest.mark.parametrize("directory", ["base", "overlays/dev", "overlays/prod"])
def test_kustomization_references_existing_files(directory: str) -> None:
    for path in _kustomization_files(K8S / directory):
        assert path.exists(), f"{directory}/kustomization.yaml names {path}, which does not exist"
    # and every manifest in the base is used
    if directory == "base":
        used = {path.name for path in _kustomization_files(K8S / "base")}
        present = {path.name for path in (K8S / "base").glob("*.yaml")} - {"kustomization.yaml"}
        assert present == used


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_workloads_are_hardened_and_pinned(overlay: str) -> None:
    docs = render(overlay)
    seen = set()
    for workload, pod in pod_specs(docs):
        name = workload["metadata"]["name"]
        seen.add(name)
        security = pod["securityContext"]
        assert security["runAsNonRoot"] is True and security["runAsUser"] != 0, name
        assert security["seccompProfile"]["type"] == "RuntimeDefault", name
        for container in pod["containers"]:
            assert image_is_pinned(container["image"]), f"{name}: {container['image']}"
            resources = container["resources"]
            assert {"cpu", "memory"} <= set(resources["requests"]) and "memory" in resources["limits"], name
            c_security = container["securityContext"]
            assert c_security["allowPrivilegeEscalation"] is False, name
            assert c_security["readOnlyRootFilesystem"] is True, name
            assert c_security["capabilities"]["drop"] == ["ALL"], name
            assert tuple(container["args"]) in AYKA_COMMANDS, f"{name}: {container['args']}"
            assert "command" not in container, f"{name} must keep the image's `ayka` entrypoint"
            env_from = {next(iter(ref.values()))["name"] for ref in container["envFrom"]}
            assert env_from == {"ayka-config", "ayka-secrets"}, name
            if workload["kind"] == "Deployment":
                assert "livenessProbe" in container and "readinessProbe" in container, name
        # read-only root: /tmp and the data dir are writable volumes
        mounts = {m["mountPath"] for c in pod["containers"] for m in c["volumeMounts"]}
        assert {"/tmp", "/data"} <= mounts, name
    assert seen == {f"ayka-{s}" for s in SERVICES} | {"ayka-migrate"}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_services_select_their_deployments(overlay: str) -> None:
    docs = render(overlay)
    for service in of_kind(docs, "Service"):
        selector = service["spec"]["selector"]
        matches = [
            d
            for d in of_kind(docs, "Deployment")
            if selector.items() <= d["spec"]["template"]["metadata"]["labels"].items()
        ]
        assert len(matches) == 1, f"Service {service['metadata']['name']} selects {len(matches)} Deployments"
        ports = {p["name"] for c in matches[0]["spec"]["template"]["spec"]["containers"] for p in c["ports"]}
        for port in service["spec"]["ports"]:
            assert port["targetPort"] in ports, service["metadata"]["name"]
    for deployment in of_kind(docs, "Deployment"):
        selector = deployment["spec"]["selector"]["matchLabels"]
        assert selector.items() <= deployment["spec"]["template"]["metadata"]["labels"].items()


def _probe_ports(container: dict[str, Any]) -> set[str]:
    return {
        container[p]["httpGet"]["port"]
        for p in ("livenessProbe", "readinessProbe", "startupProbe")
        if p in container
    }


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_probes_hit_the_served_endpoints(overlay: str) -> None:
    docs = render(overlay)
    gateway = named(docs, "Deployment", "ayka-gateway")["spec"]["template"]["spec"]["containers"][0]
    assert gateway["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert gateway["readinessProbe"]["httpGet"]["path"] == "/readyz?scope=self"
    config = named(docs, "ConfigMap", "ayka-config")["data"]
    assert config["AYKA_PORT"] == "8000" and config["AYKA_METRICS_PORT"] == "9100"
    # read-only root filesystem: caches and data go to the writable volumes
    assert config["HOME"] == "/tmp" and config["NUMBA_CACHE_DIR"].startswith("/tmp/")
    assert config["AYKA_DATA_DIR"] == "/data"
    for service in SERVICES[1:]:
        container = named(docs, "Deployment", f"ayka-{service}")["spec"]["template"]["spec"]["containers"][0]
        assert _probe_ports(container) == {"metrics"}
        assert container["ports"] == [{"name": "metrics", "containerPort": 9100, "protocol": "TCP"}]
        assert container["livenessProbe"]["httpGet"]["path"] == "/metrics"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_autoscalers_and_disruption_budgets(overlay: str) -> None:
    docs = render(overlay)
    deployments = {d["metadata"]["name"]: d for d in of_kind(docs, "Deployment")}
    hpas = {h["metadata"]["name"]: h for h in of_kind(docs, "HorizontalPodAutoscaler")}
    assert set(hpas) == {"ayka-gateway", "ayka-asr"}
    for hpa in hpas.values():
        target = hpa["spec"]["scaleTargetRef"]
        assert target["kind"] == "Deployment" and target["name"] in deployments
        assert 1 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]
    assert hpas["ayka-gateway"]["spec"]["metrics"][0]["resource"]["name"] == "cpu"
    asr_metrics = {
        m["pods"]["metric"]["name"] for m in hpas["ayka-asr"]["spec"]["metrics"] if m["type"] == "Pods"
    }
    assert "ayka_asr_active_sessions" in asr_metrics
    # prometheus-adapter serves exactly the metrics the HPA asks for
    adapter = load_yaml(K8S / "monitoring" / "prometheus-adapter-values.yaml")
    served = {rule["name"]["as"] for rule in adapter["rules"]["custom"]}
    assert asr_metrics <= served
    pdbs = of_kind(docs, "PodDisruptionBudget")
    covered = set()
    for pdb in pdbs:
        selector = pdb["spec"]["selector"]["matchLabels"]
        matches = [
            n
            for n, d in deployments.items()
            if selector.items() <= d["spec"]["template"]["metadata"]["labels"].items()
        ]
        assert len(matches) == 1, pdb["metadata"]["name"]
        covered.add(matches[0])
        replicas = deployments[matches[0]]["spec"]["replicas"]
        if "minAvailable" in pdb["spec"]:
            assert pdb["spec"]["minAvailable"] < replicas, (
                f"{pdb['metadata']['name']} would block every drain"
            )
    assert covered == set(deployments)


def test_gpu_scheduling_in_prod_and_none_in_dev() -> None:
    for overlay in OVERLAYS:
        docs = render(overlay)
        for service in SERVICES:
            pod = named(docs, "Deployment", f"ayka-{service}")["spec"]["template"]["spec"]
            limits = pod["containers"][0]["resources"]["limits"]
            on_gpu = overlay == "prod" and service in GPU_SERVICES
            assert ("nvidia.com/gpu" in limits) is on_gpu, f"{overlay}/{service}"
            assert ("nodeSelector" in pod) is on_gpu, f"{overlay}/{service}"
            if on_gpu:
                assert limits["nvidia.com/gpu"] == 1
                assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in pod[
                    "tolerations"
                ]
                assert "/ayka-gpu:" in "/" + pod["containers"][0]["image"]
    dev_asr = named(render("dev"), "Deployment", "ayka-asr")["spec"]["template"]["spec"]["containers"][0]
    assert {"name": "AYKA_ASR_DEVICE", "value": "cpu"} in dev_asr["env"]
    prod_asr = named(render("prod"), "Deployment", "ayka-asr")["spec"]["template"]["spec"]["containers"][0]
    assert {"name": "AYKA_ASR_DEVICE", "value": "cuda"} in prod_asr["env"]


def test_prod_images_come_from_ecr() -> None:
    for _, pod in pod_specs(render("prod")):
        for container in pod["containers"]:
            assert ".dkr.ecr." in container["image"] and ".amazonaws.com/" in container["image"]


def test_ingress_carries_websockets_for_hours() -> None:
    dev = named(render("dev"), "Ingress", "ayka")
    annotations = dev["metadata"]["annotations"]
    assert dev["spec"]["ingressClassName"] == "nginx"
    assert int(annotations["nginx.ingress.kubernetes.io/proxy-read-timeout"]) >= 3600
    assert int(annotations["nginx.ingress.kubernetes.io/proxy-send-timeout"]) >= 3600
    assert annotations["nginx.ingress.kubernetes.io/proxy-http-version"] == "1.1"
    assert annotations["nginx.ingress.kubernetes.io/proxy-request-buffering"] == "off"
    assert dev["spec"]["tls"][0]["secretName"]
    prod = named(render("prod"), "Ingress", "ayka")
    annotations = prod["metadata"]["annotations"]
    assert prod["spec"]["ingressClassName"] == "alb"
    idle = annotations["alb.ingress.kubernetes.io/load-balancer-attributes"]
    assert int(idle.split("idle_timeout.timeout_seconds=")[1].split(",")[0]) >= 3600
    assert "certificate-arn" in " ".join(annotations)
    for ingress in (dev, prod):
        backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
        assert backend == {"name": "ayka-gateway", "port": {"name": "http"}}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_secrets_come_from_the_external_store(overlay: str) -> None:
    docs = render(overlay)
    external = named(docs, "ExternalSecret", "ayka-secrets")
    assert external["apiVersion"].startswith("external-secrets.io/")
    assert external["spec"]["target"]["name"] == "ayka-secrets"
    store = external["spec"]["secretStoreRef"]
    named(docs, store["kind"], store["name"])
    assert external["spec"]["dataFrom"][0]["extract"]["key"] == f"ayka/{overlay}"
    assert not of_kind(docs, "Secret"), "no Secret objects in the repository"
    config = named(docs, "ConfigMap", "ayka-config")["data"]
    for key in config:
        assert not any(word in key for word in ("SECRET", "PASSWORD", "TOKEN", "API_KEY")), key


def test_migration_job_runs_ayka_migrate() -> None:
    job = named(render("prod"), "Job", "ayka-migrate")
    container = job["spec"]["template"]["spec"]["containers"][0]
    assert container["args"] == ["migrate"]
    assert job["spec"]["backoffLimit"] >= 1 and job["spec"]["template"]["spec"]["restartPolicy"] in {
        "OnFailure",
        "Never",
    }


def test_nats_comes_from_the_official_chart() -> None:
    values = load_yaml(K8S / "nats" / "values.yaml")
    assert values["config"]["jetstream"]["enabled"] is True
    assert values["config"]["jetstream"]["fileStore"]["pvc"]["enabled"] is True
    assert values["config"]["cluster"]["replicas"] >= 3
    assert "nats/nats" in (K8S / "nats" / "values.yaml").read_text()
    config = named(render("prod"), "ConfigMap", "ayka-config")["data"]
    assert config["AYKA_NATS_URL"] == "nats://nats:4222"


def test_compose_and_kubernetes_run_the_same_services() -> None:
    compose = load_yaml(K8S.parents[1] / "docker-compose.yml")["services"]
    deployments = {d["metadata"]["name"]: d for d in of_kind(render("prod"), "Deployment")}
    for service in SERVICES:
        container = deployments[f"ayka-{service}"]["spec"]["template"]["spec"]["containers"][0]
        assert container["args"] == compose[service]["command"], service
    job = named(render("prod"), "Job", "ayka-migrate")["spec"]["template"]["spec"]["containers"][0]
    assert job["args"] == compose["migrate"]["command"]
