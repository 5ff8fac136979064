# syntax=docker/dockerfile:1.7
# AYKA GPU image: the streaming ASR worker (faster-whisper / CTranslate2) and the diarize worker
# (torch, pyannote.audio). CTranslate2 4.x needs CUDA 12 and cuDNN 9, which the base image provides;
# torch comes as the CUDA 12 build of the same pinned version (2.13.0) from PyTorch's index.
#
# Build from the repository root (BuildKit reads gpu.Dockerfile.dockerignore beside this file):
#   docker build -f deploy/docker/gpu.Dockerfile -t ayka-gpu:0.1.0 .
# Build arguments:
#   TORCH_INDEX_URL  PyTorch index of a CUDA 12 build of torch==2.13.0 (default cu128)
#   BAKE_ASR_MODEL   a faster-whisper model name baked into /models/asr at build time, e.g. large-v3
#                    (empty by default: mount a CTranslate2 model directory at /models instead)
# Run with a GPU: docker run --gpus all ayka-gpu:0.1.0 worker asr   (metrics on AYKA_METRICS_PORT=9100)

# ---------------------------------------------------------------- Python virtual environment
FROM nvidia/cuda:12.8.1-cudnn-runtime-ubuntu24.04 AS build
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cu128
ARG BAKE_ASR_MODEL=""
ENV DEBIAN_FRONTEND=noninteractive \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PATH=/opt/venv/bin:$PATH
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3.12=3.12.3-* python3.12-venv=3.12.3-* \
    && rm -rf /var/lib/apt/lists/*
RUN python3.12 -m venv /opt/venv \
    && pip install --upgrade pip==25.2 wheel==0.45.1 setuptools==80.9.0 \
    && pip install --index-url "${TORCH_INDEX_URL}" torch==2.13.0
WORKDIR /src
COPY . .
RUN pip install -c constraints.txt ".[diarize]"
RUN mkdir -p /models \
    && if [[ -n "${BAKE_ASR_MODEL}" ]]; then \
        python -c "import sys; from faster_whisper import download_model; download_model(sys.argv[1], output_dir='/models/asr')" "${BAKE_ASR_MODEL}"; \
    fi

# ---------------------------------------------------------------- runtime
FROM nvidia/cuda:12.8.1-cudnn-runtime-ubuntu24.04 AS runtime
ENV DEBIAN_FRONTEND=noninteractive \
    PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOME=/tmp \
    NUMBA_CACHE_DIR=/tmp/numba-cache \
    MPLCONFIGDIR=/tmp/matplotlib \
    AYKA_DATA_DIR=/data \
    AYKA_ASR_DEVICE=cuda \
    AYKA_METRICS_PORT=9100 \
    HF_HUB_OFFLINE=1 \
    PYANNOTE_METRICS_ENABLED=false \
    NVIDIA_VISIBLE_DEVICES=all \
    NVIDIA_DRIVER_CAPABILITIES=compute,utility \
    HEALTHCHECK_URL=http://127.0.0.1:9100/metrics
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3.12=3.12.3-* \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 ayka \
    && useradd --system --uid 10001 --gid ayka --home-dir /app --no-create-home --shell /usr/sbin/nologin ayka \
    && mkdir -p /data /app \
    && chown ayka:ayka /data
COPY --from=build /opt/venv /opt/venv
COPY --from=build /models /models
COPY deploy/docker/healthcheck.py /usr/local/bin/ayka-healthcheck
WORKDIR /app
USER 10001:10001
EXPOSE 9100
HEALTHCHECK --interval=15s --timeout=5s --start-period=120s --retries=3 \
    CMD ["python", "/usr/local/bin/ayka-healthcheck"]
ENTRYPOINT ["ayka"]
CMD ["worker", "asr"]
