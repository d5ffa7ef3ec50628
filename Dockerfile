# digitbot's image: `docker compose up -d` runs it (see "Run your own" in README.md).
#
# The builder installs the pinned dependencies (requirements.lock) before any source is copied,
# so a code change rebuilds only the last layer; the runtime stage receives the finished
# virtual environment alone, with no compiler, pip cache or source tree. No secret is ever
# copied or passed in: the bot token arrives at run time through the environment.

FROM python:3.11-slim AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_ROOT_USER_ACTION=ignore
# A virtual environment rather than the system site-packages: one directory to copy, found by
# PATH, so nothing depends on where the base image keeps its Python.
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
COPY requirements.lock ./
# The libraries' own test suites (66 MB, mostly scipy's and numpy's) are never imported.
RUN pip install --no-cache-dir --require-hashes -r requirements.lock \
    && find /opt/venv -depth -type d -name tests -path "*/site-packages/*" -exec rm -rf {} +
COPY pyproject.toml ./
COPY bot/ bot/
COPY model/ model/
COPY training/ training/
# A regular (not editable) install puts the code and the shipped model into the venv; pip itself
# is not needed to run the bot, so it does not ship.
RUN pip install --no-cache-dir --no-deps . \
    && pip uninstall --yes pip setuptools

FROM python:3.11-slim
# A fixed, numeric UID/GID: the same on every host, so a mounted volume's owner is predictable
# and Kubernetes' runAsNonRoot can verify the user without a passwd lookup.
RUN groupadd --gid 10001 digitbot \
    && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin digitbot \
    && mkdir /data && chown 10001:10001 /data
COPY --from=builder /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    DATA_DIR=/data
# The bot's only state, the users' corrections (a SQLite file unless DATABASE_URL names a
# PostgreSQL server), lives in a volume the bot's user owns, so it outlives the container.
VOLUME ["/data"]
USER 10001:10001
# In polling mode the bot has no port to probe: the running bot refreshes a heartbeat file while
# its loop runs and the Bot API answers, and `digitbot healthcheck` judges the file's age.
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=2 \
    CMD ["digitbot", "healthcheck"]
# Exec form: digitbot is PID 1 and receives `docker stop`'s SIGTERM itself, finishing the
# updates in flight before it exits.
CMD ["digitbot", "serve"]
