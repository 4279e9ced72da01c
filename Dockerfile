# Steward in a container: `docker build -t steward .`; docs/operations.md shows how to run, watch and upgrade it.
# Settings come from the environment at run time (`--env-file`, compose, a secret store); none is built in.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# A dedicated user without a login; its home is the data directory, the only place Steward writes to
# (the SQLite database under data/, matplotlib's cache).
RUN groupadd --system --gid 10001 steward \
    && useradd --system --uid 10001 --gid steward --home-dir /var/lib/steward --shell /usr/sbin/nologin steward \
    && install --directory --owner=steward --group=steward --mode=0750 /var/lib/steward /var/lib/steward/data

WORKDIR /opt/steward/src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY adapters ./adapters
COPY facilitation_rules ./facilitation_rules
COPY storage ./storage
COPY examples ./examples
# The project and its dependencies (all of them wheels: no compiler needed). Without platform tokens
# `steward run` replays the sample community, which it looks for beside the installed packages.
RUN pip install . \
    && cp -r examples "$(python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/examples" \
    && cd / && rm -rf /opt/steward/src

# In a container the portal, Slack's HTTP mode and the operators' port (health and metrics, served only when
# METRICS_PORT is set) must listen beyond loopback to be reachable at all; which ports are published is decided
# at run time. No HEALTHCHECK: docs/operations.md ("Health checks in a container") says which probe to use.
ENV WEB_HOST=0.0.0.0 \
    SLACK_HTTP_HOST=0.0.0.0 \
    METRICS_HOST=0.0.0.0
EXPOSE 8080 3000

WORKDIR /var/lib/steward
VOLUME ["/var/lib/steward"]
USER steward

# SIGTERM (`docker stop`) ends `steward run` cleanly: pending work written, leases given back, exit status 0.
STOPSIGNAL SIGTERM
ENTRYPOINT ["steward"]
CMD ["run"]
