#!/usr/bin/env bash
# Stop the private Docker engine that tests/setup/docker.sh started, with its
# containers and containerd. Images stay in SHIBAWS_DOCKER_STATE for the next
# run; pass --purge to delete them too. Safe to run when nothing is running.
set -euo pipefail

run_dir=${SHIBAWS_DOCKER_RUN:-/run/shibaws-test/docker}
state_dir=${SHIBAWS_DOCKER_STATE:-/var/lib/shibaws-test}
pidfile=$run_dir/dockerd.pid

# Without live-restore, dockerd stops its containers and its containerd on SIGTERM.
if [[ -f $pidfile ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    pid=$(cat "$pidfile")
    kill -TERM "$pid"
    for _ in $(seq 1 60); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.5
    done
    if kill -0 "$pid" 2>/dev/null; then
        echo "docker-stop.sh: dockerd $pid still running after 30 s; killing its process group" >&2
        kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid"
    fi
fi

# Container shims outlive a killed dockerd; find ours by their containerd address.
for proc in /proc/[0-9]*; do
    cmdline=$(tr '\0' ' ' 2>/dev/null <"$proc/cmdline" || true)
    if [[ $cmdline == *containerd* && $cmdline == *"$run_dir/exec/"* ]]; then
        kill -KILL "${proc#/proc/}" 2>/dev/null || true
    fi
done

# Mounts left by a killed engine would keep the folders busy.
mounts=$(grep -oE " ($run_dir|$state_dir/data)/[^ ]*" /proc/self/mounts | sort -r || true)
for mount in $mounts; do
    umount -l "$mount" 2>/dev/null || true
done
rm -rf "$run_dir"

if [[ ${1:-} == --purge ]]; then
    rm -rf "$state_dir"
fi
echo "Docker engine on $run_dir/docker.sock stopped." >&2
