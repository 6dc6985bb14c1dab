"""deploy/kubernetes/ checked offline: the manifests against the Kubernetes schemas shipped in
kubernetes-validate, the scrape config and the alert rules with promtool, the buffering alert's unit
test with ``promtool test rules``, the dashboard's queries against the exporter's metric names."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from streamprobe.exporter.metrics import METRIC_NAMES

from .support import DEPLOY, promtool

MANIFESTS = ("configmap.yaml", "deployment.yaml", "service.yaml", "probe.yaml")
#: The Prometheus Operator's kinds: kubernetes-validate ships no schema for custom resources.
OPERATOR_KINDS = {"Probe", "ServiceMonitor"}


def documents() -> list[dict[str, Any]]:
    return [d for name in MANIFESTS for d in yaml.safe_load_all((DEPLOY / name).read_text()) if d]


def test_kustomization_lists_every_manifest() -> None:
    kustomization = yaml.safe_load((DEPLOY / "kustomization.yaml").read_text())
    assert kustomization["resources"] == list(MANIFESTS)


@pytest.mark.parametrize("document", documents(), ids=lambda d: f"{d['kind']}/{d['metadata']['name']}")
def test_manifest_is_valid(document: dict[str, Any]) -> None:
    if document["kind"] in OPERATOR_KINDS:
        with pytest.raises(kubernetes_validate.SchemaNotFoundError):
            kubernetes_validate.validate(document, kubernetes_validate.latest_version(), strict=True)
        assert document["apiVersion"] == "monitoring.coreos.com/v1"
        return
    kubernetes_validate.validate(document, kubernetes_validate.latest_version(), strict=True)


def test_validator_catches_a_wrong_field() -> None:
    (deployment,) = [d for d in documents() if d["kind"] == "Deployment"]
    deployment["spec"]["template"]["spec"]["containers"][0]["securityContext"]["readOnlyRootFS"] = True
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, kubernetes_validate.latest_version(), strict=True)


def test_pod_is_locked_down() -> None:
    (deployment,) = [d for d in documents() if d["kind"] == "Deployment"]
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["automountServiceAccountToken"] is False
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["capabilities"]["drop"] == ["ALL"]
    assert set(container["resources"]["limits"]) == {"cpu", "memory"}
    assert container["readinessProbe"] and container["livenessProbe"]


def test_probe_resource_matches_the_scrape_config() -> None:
    (probe,) = [d for d in documents() if d["kind"] == "Probe"]
    scrape = yaml.safe_load((DEPLOY / "prometheus" / "scrape-config.yaml").read_text())
    (job,) = [j for j in scrape["scrape_configs"] if j["job_name"] == "streamprobe"]
    (rewrite,) = [r for r in job["relabel_configs"] if r.get("target_label") == "__address__"]
    assert probe["spec"]["prober"]["url"] == rewrite["replacement"]
    assert probe["spec"]["prober"]["path"] == job["metrics_path"]
    assert [probe["spec"]["module"]] == job["params"]["module"]


def test_scrape_config_and_rules_pass_promtool() -> None:
    checked = promtool("check", "config", str(DEPLOY / "prometheus" / "scrape-config.yaml"))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    rules = promtool("check", "rules", str(DEPLOY / "prometheus" / "alerts.yaml"))
    assert rules.returncode == 0 and "3 rules found" in rules.stdout, rules.stdout + rules.stderr


def test_buffering_alert_unit_test(tmp_path: Path) -> None:
    tested = promtool("test", "rules", str(DEPLOY / "prometheus" / "alerts-test.yaml"))
    assert tested.returncode == 0 and "SUCCESS" in tested.stdout, tested.stdout + tested.stderr
    # the unit test can fail: with a 10 s bound the alert no longer fires
    (tmp_path / "alerts.yaml").write_text(
        (DEPLOY / "prometheus" / "alerts.yaml").read_text().replace("> 0.5", "> 10")
    )
    (tmp_path / "alerts-test.yaml").write_text((DEPLOY / "prometheus" / "alerts-test.yaml").read_text())
    assert promtool("test", "rules", str(tmp_path / "alerts-test.yaml")).returncode != 0


def test_dashboard_reads_only_the_exporters_metrics() -> None:
    dashboard = json.loads((DEPLOY / "grafana" / "streamprobe-dashboard.json").read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    used = {name for expr in exprs for name in re.findall(r"\b(probe_\w+|streamprobe_\w+)\{", expr)}
    assert used and used <= set(METRIC_NAMES)
    assert {
        "streamprobe_buffering_delay_seconds",
        "streamprobe_verdict",
        "streamprobe_first_event_seconds",
    } <= used
    titles = {p["type"]: p["title"] for p in dashboard["panels"]}
    assert titles["state-timeline"] == "Verdict"


def test_containerfile_runs_the_exporter_unprivileged() -> None:
    text = (DEPLOY / "Containerfile").read_text()
    assert "'./probe[exporter,brotli]'" in text and "-c constraints.txt" in text
    assert re.search(r"^USER 65532", text, re.MULTILINE)
    assert 'ENTRYPOINT ["streamprobe"]' in text
