# The operator image. Build from the repository root:
#   docker build -t kubetune/operator:0.1.0 .
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
COPY pyproject.toml README.md /src/
COPY operator /src/operator
# With the dashboard extra: the chart's dashboard (dashboard.enabled) runs from this image.
RUN pip install "/src[dashboard]" && rm -rf /src

# Runs as an unprivileged user with a read-only root filesystem (see the Helm chart).
RUN useradd --uid 1000 --no-create-home kubetune
USER 1000
# ingest (reporter sidecars), Prometheus /metrics, kopf's /healthz; the chart's defaults.
EXPOSE 8443 9090 8080
ENTRYPOINT ["kopf"]
CMD ["run", "--module=kubetune.reconcile.handlers", "--standalone", "--all-namespaces", "--liveness=http://0.0.0.0:8080/healthz"]
