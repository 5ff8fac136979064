"""docker-compose.yml: validated by the Compose binary itself, then checked for what the platform needs."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from ayka.settings import Settings
from tests.deploy.support import AYKA_COMMANDS, REPO, compose_binary

COMPOSE_FILE = REPO / "docker-compose.yml"
ENV_EXAMPLE = REPO / ".env.example"
AYKA_SERVICES = {
    "migrate",
    "gateway",
    "asr",
    "asr-cpu",
    "diarize",
    "diarize-cpu",
    "recorder",
    "agents",
    "webhooks",
}
LONG_RUNNING = {"nats", "postgres", "minio"} | (AYKA_SERVICES - {"migrate"})


def compose(
    *args: str, project_dir: Path = REPO, env_file: Path | None = ENV_EXAMPLE
) -> subprocess.CompletedProcess[str]:
    cmd = [
        str(compose_binary()),
        "--project-directory",
        str(project_dir),
        "-f",
        str(project_dir / "docker-compose.yml"),
    ]
    if env_file is not None:
        cmd += ["--env-file", str(env_file)]
    return subprocess.run([*cmd, "--profile", "*", *args], capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def rendered() -> dict[str, Any]:
    """The fully interpolated model, as `docker compose config` prints it (all profiles)."""
    proc = compose("config")
    assert proc.returncode == 0, proc.stderr
    model: dict[str, Any] = yaml.safe_load(proc.stdout)
    return model


def test_compose_file_is_valid() -> None:
    proc = compose("config", "-q")
    assert proc.returncode == 0, proc.stderr


def test_a_broken_compose_file_is_rejected(tmp_path: Path) -> None:
    # The same check must fail on a broken copy, or the test above proves nothing.
    # A typo in a key, and a dependency on a service that does not exist.
    broken = COMPOSE_FILE.read_text().replace('    command: ["gateway"]\n', '    comand: ["gateway"]\n')
    assert broken != COMPOSE_FILE.read_text()
    (tmp_path / "docker-compose.yml").write_text(broken)
    shutil.copytree(REPO / "deploy" / "models", tmp_path / "deploy" / "models")
    proc = compose("config", "-q", project_dir=tmp_path)
    assert proc.returncode != 0
    assert "comand" in proc.stderr
    missing = COMPOSE_FILE.read_text().replace(
        "      minio-init:\n        condition: service_completed",
        "      minio-init2:\n        condition: service_completed",
        1,
    )
    (tmp_path / "docker-compose.yml").write_text(missing)
    proc = compose("config", "-q", project_dir=tmp_path)
    assert proc.returncode != 0
    assert "minio-init2" in proc.stderr


def test_secrets_must_be_set(tmp_path: Path) -> None:
    empty = tmp_path / "empty.env"
    empty.write_text("")
    proc = compose("config", "-q", env_file=empty)
    assert proc.returncode != 0
    assert "in .env" in proc.stderr


def test_profiles_choose_gpu_or_cpu_workers() -> None:
    def services(profile: str) -> set[str]:
        cmd = [str(compose_binary()), "--project-directory", str(REPO), "--env-file", str(ENV_EXAMPLE)]
        proc = subprocess.run(
            [*cmd, "--profile", profile, "config", "--services"], capture_output=True, text=True, timeout=60
        )
        assert proc.returncode == 0, proc.stderr
        return set(proc.stdout.split())

    gpu, cpu = services("gpu"), services("cpu")
    assert {"asr", "diarize"} <= gpu and not {"asr-cpu", "diarize-cpu"} & gpu
    assert {"asr-cpu", "diarize-cpu"} <= cpu and not {"asr", "diarize"} & cpu
    common = {
        "nats",
        "postgres",
        "minio",
        "minio-init",
        "migrate",
        "gateway",
        "recorder",
        "agents",
        "webhooks",
    }
    assert common <= gpu and common <= cpu


def test_services_run_the_ayka_commands(rendered: dict[str, Any]) -> None:
    services = rendered["services"]
    assert set(services) >= AYKA_SERVICES
    for name in AYKA_SERVICES:
        assert tuple(services[name]["command"]) in AYKA_COMMANDS, name
        assert "entrypoint" not in services[name], f"{name} must keep the image's `ayka` entrypoint"
    assert services["migrate"]["command"] == ["migrate"]


def test_gpu_workers_reserve_a_gpu(rendered: dict[str, Any]) -> None:
    services = rendered["services"]
    for name in ("asr", "diarize"):
        devices = services[name]["deploy"]["resources"]["reservations"]["devices"]
        assert devices[0]["driver"] == "nvidia" and "gpu" in devices[0]["capabilities"], name
        assert services[name]["build"]["dockerfile"] == "deploy/docker/gpu.Dockerfile"
    assert services["asr"]["environment"]["AYKA_ASR_DEVICE"] == "cuda"
    assert services["asr-cpu"]["environment"]["AYKA_ASR_DEVICE"] == "cpu"
    for name in ("asr-cpu", "diarize-cpu"):
        assert "deploy" not in services[name]
        assert services[name]["build"]["dockerfile"] == "deploy/docker/cpu.Dockerfile"


def test_health_checks_and_restart_policies(rendered: dict[str, Any]) -> None:
    services = rendered["services"]
    for name in LONG_RUNNING:
        assert services[name]["restart"] == "unless-stopped", name
        check = services[name]["healthcheck"]
        assert check["test"][0] in {"CMD", "CMD-SHELL"} and not check.get("disable"), name
    for job in ("migrate", "minio-init"):
        assert services[job]["restart"] == "no"
    # Workers are checked on their metrics port, which AYKA_METRICS_PORT opens.
    for name in AYKA_SERVICES - {"migrate", "gateway"}:
        assert services[name]["healthcheck"]["test"][-1] == "http://127.0.0.1:9100/metrics", name
        assert services[name]["environment"]["AYKA_METRICS_PORT"] == "9100", name


def test_start_order(rendered: dict[str, Any]) -> None:
    services = rendered["services"]
    gateway = services["gateway"]["depends_on"]
    assert gateway["migrate"]["condition"] == "service_completed_successfully"
    assert gateway["minio-init"]["condition"] == "service_completed_successfully"
    assert gateway["nats"]["condition"] == "service_healthy"
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["minio-init"]["depends_on"]["minio"]["condition"] == "service_healthy"


def test_infrastructure(rendered: dict[str, Any]) -> None:
    services = rendered["services"]
    nats = services["nats"]
    assert "--jetstream" in nats["command"]
    assert any(v["target"] == "/data" and v["type"] == "volume" for v in nats["volumes"])
    assert any(v["target"] == "/var/lib/postgresql/data" for v in services["postgres"]["volumes"])
    script = services["minio-init"]["command"][0]
    assert "mc mb --ignore-existing" in script and "mc version enable" in script
    env = services["gateway"]["environment"]
    assert env["AYKA_NATS_URL"] == "nats://nats:4222"
    assert (
        env["AYKA_DATABASE_URL"].startswith("postgresql://") and "@postgres:5432/" in env["AYKA_DATABASE_URL"]
    )
    assert env["AYKA_ARCHIVE_URL"].startswith("s3://") and env["AYKA_S3_ENDPOINT_URL"] == "http://minio:9000"
    # Every image is pinned to a release tag.
    for name, service in services.items():
        image = service["image"]
        if name in AYKA_SERVICES:
            continue  # built from this repository
        assert ":" in image and not image.endswith(":latest"), f"{name}: {image}"


def test_outside_services_replace_the_wired_ones(tmp_path: Path) -> None:
    # The split-host and AWS paths: RDS, NATS elsewhere, S3 through the instance profile (empty keys).
    env = tmp_path / "outside.env"
    env.write_text(
        ENV_EXAMPLE.read_text()
        + "AYKA_DATABASE_URL=postgresql://ayka:pw@db.example.internal:5432/ayka?sslmode=require\n"
        + "AYKA_NATS_URL=nats://10.0.1.5:4222\n"
        + "AYKA_ARCHIVE_URL=s3://ayka-recordings-prod/archive\n"
        + "AYKA_S3_ENDPOINT_URL=\nAYKA_S3_ACCESS_KEY_ID=\nAYKA_S3_SECRET_ACCESS_KEY=\n"
    )
    proc = compose("config", env_file=env)
    assert proc.returncode == 0, proc.stderr
    wired = yaml.safe_load(proc.stdout)["services"]["gateway"]["environment"]
    assert wired["AYKA_DATABASE_URL"].startswith("postgresql://ayka:pw@db.example.internal:5432/")
    assert wired["AYKA_NATS_URL"] == "nats://10.0.1.5:4222"
    assert wired["AYKA_ARCHIVE_URL"] == "s3://ayka-recordings-prod/archive"
    assert (
        wired["AYKA_S3_ENDPOINT_URL"]
        == wired["AYKA_S3_ACCESS_KEY_ID"]
        == wired["AYKA_S3_SECRET_ACCESS_KEY"]
        == ""
    )


def test_the_wired_environment_is_valid_settings(rendered: dict[str, Any]) -> None:
    for name in ("gateway", "asr", "asr-cpu", "webhooks"):
        env = {
            k.removeprefix("AYKA_").lower(): v for k, v in rendered["services"][name]["environment"].items()
        }
        settings = Settings.model_validate(env)
        assert settings.nats_url == "nats://nats:4222"
        assert settings.metrics_port == 9100


def _env_example() -> dict[str, str]:
    values: dict[str, str] = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        if line and not line.startswith("#"):
            key, sep, value = line.partition("=")
            assert sep, f"not KEY=VALUE: {line!r}"
            values[key] = value
    return values


def test_env_example_names_every_variable() -> None:
    text = ENV_EXAMPLE.read_text()
    listed = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", text, re.MULTILINE))
    settings = {f"AYKA_{name.upper()}" for name in Settings.model_fields}
    assert not settings - listed, f"settings missing from .env.example: {sorted(settings - listed)}"
    used = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", COMPOSE_FILE.read_text()))
    assert not used - listed, f"compose variables missing from .env.example: {sorted(used - listed)}"


def test_env_example_has_no_secrets() -> None:
    for key, value in _env_example().items():
        if re.search(r"PASSWORD|SECRET|TOKEN|API_KEY|DSN", key):
            assert value == "" or value.startswith("change-me"), (
                f"{key} must be empty or a change-me placeholder"
            )
    settings = Settings.model_validate(
        {k.removeprefix("AYKA_").lower(): v for k, v in _env_example().items() if k.startswith("AYKA_")}
    )
    assert settings.asr_model == "tiny.en"
