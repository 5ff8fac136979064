# syntax=docker/dockerfile:1.7
# AYKA CPU image: the gateway (serving the web UI) and every worker that needs no GPU
# (recorder, agents, webhooks, and the CPU variants of asr and diarize).
#
# Build from the repository root (BuildKit reads cpu.Dockerfile.dockerignore beside this file):
#   docker build -f deploy/docker/cpu.Dockerfile -t ayka:0.1.0 .
# Build arguments:
#   AYKA_EXTRAS      optional extras of the Python package (default "diarize,agents";
#                    "agents" leaves out torch and the diarize worker, about 1 GB smaller)
#   TORCH_INDEX_URL  where torch==2.13.0 comes from (PyTorch's CPU index by default)
#   BAKE_ASR_MODEL   a faster-whisper model name baked into /models/asr at build time
#                    (empty by default: the image uses tiny.en from its wheel, or a model mounted at /models)
# Entrypoint is the `ayka` CLI; the command picks the service: gateway, worker <kind>, migrate, keys.

# ---------------------------------------------------------------- web UI (static export)
FROM node:22.17.0-bookworm-slim AS web
ENV NEXT_TELEMETRY_DISABLED=1
WORKDIR /src/web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY web/ ./
RUN npm run build

# ---------------------------------------------------------------- Python virtual environment
FROM python:3.11.13-slim-bookworm AS build
ARG AYKA_EXTRAS=diarize,agents
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
ARG BAKE_ASR_MODEL=""
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PATH=/opt/venv/bin:$PATH
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
RUN python -m venv /opt/venv \
    && pip install --upgrade pip==25.2 wheel==0.45.1 setuptools==80.9.0
# torch first and pinned, from the CPU index: a plain PyPI install would pull the CUDA build (GBs).
RUN if [[ ",${AYKA_EXTRAS}," == *",diarize,"* ]]; then \
        pip install --index-url "${TORCH_INDEX_URL}" torch==2.13.0; \
    fi
WORKDIR /src
COPY . .
RUN pip install -c constraints.txt ".[${AYKA_EXTRAS}]"
RUN mkdir -p /models \
    && if [[ -n "${BAKE_ASR_MODEL}" ]]; then \
        python -c "import sys; from faster_whisper import download_model; download_model(sys.argv[1], output_dir='/models/asr')" "${BAKE_ASR_MODEL}"; \
    fi

# ---------------------------------------------------------------- runtime
FROM python:3.11.13-slim-bookworm AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOME=/tmp \
    NUMBA_CACHE_DIR=/tmp/numba-cache \
    MPLCONFIGDIR=/tmp/matplotlib \
    AYKA_HOST=0.0.0.0 \
    AYKA_PORT=8000 \
    AYKA_DATA_DIR=/data \
    AYKA_WEB_DIR=/app/web/out \
    HF_HUB_OFFLINE=1 \
    PYANNOTE_METRICS_ENABLED=false \
    CREWAI_DISABLE_TELEMETRY=true \
    CREWAI_TRACING_ENABLED=false \
    OTEL_SDK_DISABLED=true \
    HEALTHCHECK_URL=http://127.0.0.1:8000/healthz
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
RUN groupadd --system --gid 10001 ayka \
    && useradd --system --uid 10001 --gid ayka --home-dir /app --no-create-home --shell /usr/sbin/nologin ayka
COPY --from=build /opt/venv /opt/venv
COPY --from=build /models /models
COPY --from=web /src/web/out /app/web/out
COPY deploy/docker/healthcheck.py /usr/local/bin/ayka-healthcheck
RUN mkdir -p /data \
    && chown ayka:ayka /data \
    && chmod 0755 /usr/local/bin/ayka-healthcheck
WORKDIR /app
USER 10001:10001
EXPOSE 8000 9100
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "/usr/local/bin/ayka-healthcheck"]
ENTRYPOINT ["ayka"]
CMD ["gateway"]
