# syntax=docker/dockerfile:1
# Build a wheel in one stage; run it, with every optional backend driver, in a slim stage as a
# non-root user.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml setup.cfg README.md ./
COPY src ./src
RUN pip wheel --no-cache-dir --wheel-dir /wheels ".[all]"

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    AVREG_SERVER__HOST=0.0.0.0 \
    AVREG_SERVER__PORT=8080 \
    AVREG_DATA_DIR=/var/lib/agentvault-registry
RUN useradd --system --uid 10001 --home-dir /var/lib/agentvault-registry --create-home registry
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index --find-links /wheels "agentvault-registry[all]" \
    && rm -rf /wheels
COPY deploy/gunicorn.conf.py /etc/agentvault-registry/gunicorn.conf.py
USER registry
WORKDIR /var/lib/agentvault-registry
EXPOSE 8080
# With the registry serving HTTPS itself (spiffe_identity serve_tls), set
# AVREG_HEALTHCHECK_SCHEME=https: the probe asks loopback, so it does not verify the SVID.
ENV AVREG_HEALTHCHECK_SCHEME=http
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, ssl, sys, urllib.request; url = '%s://127.0.0.1:%s/health' % (os.environ['AVREG_HEALTHCHECK_SCHEME'], os.environ.get('AVREG_SERVER__PORT', '8080')); sys.exit(urllib.request.urlopen(url, timeout=4, context=ssl._create_unverified_context()).status != 200)"]
# One process by default; several workers on one port with gunicorn instead:
#   docker run --entrypoint gunicorn IMAGE -c /etc/agentvault-registry/gunicorn.conf.py
# (deploy/docker-compose.yml does this, after a one-shot `migrate`).
ENTRYPOINT ["agentvault-registry"]
CMD ["serve"]
