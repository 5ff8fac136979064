"""deploy/monitoring: the scrape config, alert rules (real PromQL parse) and the Grafana dashboard."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import promql_parser
import pytest

from tests.deploy.support import DEPLOY, HISTOGRAMS, KEY_METRICS, METRICS, load_yaml

MONITORING = DEPLOY / "monitoring"
DASHBOARD = MONITORING / "grafana" / "dashboards" / "ayka-overview.json"


def metric_names(expr: str) -> set[str]:
    """Every metric an expression selects, from the parsed AST."""
    names: set[str] = set()

    def visit(node: Any) -> bool:
        if isinstance(node, promql_parser.VectorSelector) and node.name:
            names.add(node.name)
        return True

    promql_parser.walk(promql_parser.parse(expr), visit)
    return names


def base_name(name: str) -> str:
    for suffix in ("_bucket", "_count", "_sum"):
        if name.endswith(suffix) and name.removesuffix(suffix) in HISTOGRAMS:
            return name.removesuffix(suffix)
    return name


def rules() -> list[dict[str, Any]]:
    return [rule for group in load_yaml(MONITORING / "alerts.yml")["groups"] for rule in group["rules"]]


def test_the_parser_rejects_bad_promql() -> None:
    with pytest.raises(ValueError):
        promql_parser.parse("sum(rate(ayka_active_streams[5m])")
    assert metric_names("histogram_quantile(0.95, sum by (le) (rate(x_bucket[5m]))) > 0.5") == {"x_bucket"}


def test_alert_rules_parse_and_use_known_metrics() -> None:
    names = set()
    for rule in rules():
        assert set(rule) == {"alert", "expr", "for", "labels", "annotations"}, rule.get("alert")
        assert rule["labels"]["severity"] in {"warning", "critical"}
        assert rule["annotations"]["summary"] and rule["annotations"]["description"]
        used = {base_name(n) for n in metric_names(rule["expr"])}
        assert used <= METRICS, f"{rule['alert']} uses unknown metrics {used - METRICS}"
        names.add(rule["alert"])
    assert len(names) == len(rules()), "alert names are unique"


@pytest.mark.parametrize(
    ("topic", "metric"),
    [
        ("API p95 < 500 ms", "ayka_http_request_duration_seconds_bucket"),
        ("ASR lag", "ayka_asr_session_lag_seconds"),
        ("ASR queue (refused sessions)", "ayka_asr_refused_sessions_total"),
        ("DB pool saturation", "ayka_db_pool_in_use"),
        ("archive upload success rate", "ayka_archive_uploads_total"),
        ("agent success rate", "ayka_agent_runs_total"),
        ("webhook failures", "ayka_webhook_deliveries_total"),
    ],
)
def test_every_key_metric_has_an_alert(topic: str, metric: str) -> None:
    assert any(metric in metric_names(rule["expr"]) for rule in rules()), topic


def test_latency_alert_is_the_plans_500_ms() -> None:
    rule = next(r for r in rules() if "ayka_http_request_duration_seconds_bucket" in metric_names(r["expr"]))
    expr = "".join(rule["expr"].split())
    assert expr.startswith("histogram_quantile(0.95,") and expr.endswith(">0.5")


def test_prometheus_config_scrapes_every_service() -> None:
    config = load_yaml(MONITORING / "prometheus.yml")
    assert config["rule_files"] == ["/etc/prometheus/alerts.yml"]
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    targets = {
        t for job in jobs.values() for group in job.get("static_configs", []) for t in group["targets"]
    }
    assert "gateway:8000" in targets
    for worker in ("asr", "asr-cpu", "diarize", "diarize-cpu", "recorder", "agents", "webhooks"):
        assert f"{worker}:9100" in targets, worker
    pods = jobs["kubernetes-pods"]
    assert pods["kubernetes_sd_configs"][0]["role"] == "pod"
    keep = pods["relabel_configs"][0]
    assert keep["action"] == "keep" and keep["source_labels"] == [
        "__meta_kubernetes_pod_annotation_prometheus_io_scrape"
    ]


def test_compose_mounts_the_monitoring_files() -> None:
    compose = load_yaml(DEPLOY.parent / "docker-compose.yml")
    for service in ("prometheus", "grafana"):
        for volume in compose["services"][service]["volumes"]:
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (DEPLOY.parent / source).exists(), source


def _dashboard() -> dict[str, Any]:
    dashboard: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return dashboard


def test_grafana_dashboard_loads_and_queries_known_metrics() -> None:
    dashboard = _dashboard()
    assert dashboard["uid"] and dashboard["title"]
    panels = dashboard["panels"]
    ids = [panel["id"] for panel in panels]
    assert len(ids) == len(set(ids)), "panel ids are unique"
    used: set[str] = set()
    for panel in panels:
        assert {"x", "y", "w", "h"} <= set(panel["gridPos"])
        for target in panel.get("targets", []):
            used |= {base_name(n) for n in metric_names(target["expr"])}
    assert used <= METRICS, used - METRICS
    assert used >= KEY_METRICS, f"not on the dashboard: {KEY_METRICS - used}"


def test_the_known_metrics_come_from_the_code() -> None:
    # METRICS is read from the Prometheus registry after importing the modules that define metrics.
    assert KEY_METRICS <= METRICS, f"defined nowhere: {KEY_METRICS - METRICS}"
    assert {"ayka_http_request_duration_seconds", "ayka_asr_update_duration_seconds"} <= HISTOGRAMS


def test_grafana_provisioning_points_at_the_dashboards() -> None:
    provider = load_yaml(MONITORING / "grafana" / "provisioning" / "dashboards" / "ayka.yml")
    assert provider["providers"][0]["options"]["path"] == "/var/lib/grafana/dashboards"
    source = load_yaml(MONITORING / "grafana" / "provisioning" / "datasources" / "prometheus.yml")
    assert source["datasources"][0]["type"] == "prometheus"
    assert Path(DASHBOARD).parent.name == "dashboards"


def test_kubernetes_monitoring_values_match_the_compose_files() -> None:
    values = load_yaml(DEPLOY / "k8s" / "monitoring" / "kube-prometheus-stack-values.yaml")
    config = load_yaml(MONITORING / "prometheus.yml")
    pods = next(job for job in config["scrape_configs"] if job["job_name"] == "kubernetes-pods")
    assert values["prometheus"]["prometheusSpec"]["additionalScrapeConfigs"] == [pods]
    assert (
        values["additionalPrometheusRulesMap"]["ayka"]["groups"]
        == load_yaml(MONITORING / "alerts.yml")["groups"]
    )


def test_alert_unit_tests_cover_real_alerts_and_metrics() -> None:
    # promtool runs them in CI (ci.yml); here: they name alerts and metrics that exist.
    suite = load_yaml(MONITORING / "alerts.test.yml")
    assert suite["rule_files"] == ["alerts.yml"]
    alerts = {rule["alert"] for rule in rules()}
    tested = set()
    for case in suite["tests"]:
        for series in case["input_series"]:
            assert base_name(metric_names(series["series"]).pop()) in METRICS, series["series"]
        for check in case["alert_rule_test"]:
            assert check["alertname"] in alerts, check["alertname"]
            tested.add(check["alertname"])
    assert len(tested) >= 8
    ci = (DEPLOY.parent / ".github" / "workflows" / "ci.yml").read_text()
    assert "promtool test rules deploy/monitoring/alerts.test.yml" in ci
