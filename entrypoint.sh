#!/bin/sh
# Run shibaws as the user and group that own the mounted ~/.aws, with HOME set
# so that ~/.aws is the mount: credentials land owned by the host user and
# Firefox never runs as root. Any other command (bash, id, ...) runs as given.
# backup and schedule start no browser and only read ~/.aws, so for them a
# read-only or root-owned mount is fine, and without a mount they run as the
# image's user (1000:1000) with credentials from the environment or an
# instance role.
set -eu

usage_exit=2 # shibaws's exit code for usage errors

fail() {
    echo "shibaws: error: $*" >&2
    exit "$usage_exit"
}

# True when PATH is itself a mount point in this container.
is_mount_point() {
    awk -v path="$1" '$5 == path { found = 1 } END { exit !found }' /proc/self/mountinfo
}

# Commands other than shibaws run unchanged. "login" is also /bin/login, so
# the sub-command names are matched before PATH is searched.
case "${1:-}" in
shibaws) shift ;;
"" | -* | login | backup | schedule) ;;
*) if command -v -- "$1" >/dev/null 2>&1; then exec "$@"; fi ;;
esac

# Find the mounted ~/.aws: the folder itself, or a single credentials or
# config file mounted into it. The documented target comes first.
aws_dir=""
owned_path=""
for dir in /home/shibaws/.aws /root/.aws; do
    for path in "$dir" "$dir/credentials" "$dir/config"; do
        if is_mount_point "$path"; then
            aws_dir=$dir
            owned_path=$path
            break 2
        fi
    done
done

if [ -z "$aws_dir" ]; then
    # Credentials written without a mount would vanish with the container.
    if [ "${1:-}" = login ]; then
        fail "no ~/.aws folder is mounted, so the credentials would be lost when the" \
            "container exits. Add -v \"\$HOME/.aws:/home/shibaws/.aws\" to docker run" \
            "(on SELinux hosts: -v \"\$HOME/.aws:/home/shibaws/.aws:z\")."
    fi
    aws_dir=/home/shibaws/.aws
    owned_path=/home/shibaws
fi
home=${aws_dir%/.aws}
export HOME="$home"

# A Docker secret named shibaws_password is the password file unless one is set.
if [ -z "${SHIBAWS_PASSWORD_FILE:-}" ] && [ -s /run/secrets/shibaws_password ]; then
    export SHIBAWS_PASSWORD_FILE=/run/secrets/shibaws_password
fi

# Started with --user: nothing can be switched, so run as that user.
if [ "$(id -u)" != 0 ]; then
    exec shibaws "$@"
fi

uid=$(stat -c %u "$owned_path")
gid=$(stat -c %g "$owned_path")
case "${1:-}" in backup | schedule) browserless=1 ;; *) browserless=0 ;; esac
if [ "$uid" = 0 ] && [ "$browserless" = 0 ] && [ "${SHIBAWS_ALLOW_ROOT:-}" != 1 ]; then
    fail "$owned_path is owned by root, and shibaws will not run Firefox as root." \
        "Mount a folder that your own user owns, or pass --user UID:GID. With rootless" \
        "Docker or Podman, where root in the container is your own user, add -e SHIBAWS_ALLOW_ROOT=1."
fi

# Firefox needs a HOME owned by the user it runs as. Only container folders are
# changed here, never the mount itself.
for dir in "$home" "$aws_dir"; do
    if [ -d "$dir" ] && ! is_mount_point "$dir" && [ "$(stat -c %u:%g "$dir")" != "$uid:$gid" ]; then
        chown "$uid:$gid" "$dir" || echo "shibaws: warning: failed to change the owner of $dir to $uid:$gid" >&2
    fi
done

# A new volume for the status file is empty and owned by root, or by 1000:1000
# when Docker copied the image's folder into it. Give it to the user that runs
# the backup, but leave a folder that already contains files as it is.
state_dir=$(dirname "${SHIBAWS_STATUS_FILE:-/var/lib/shibaws/status.json}")
if [ "$browserless" = 1 ] && [ -d "$state_dir" ] && [ -z "$(ls -A "$state_dir")" ]; then
    case $(stat -c %u:%g "$state_dir") in
    "$uid:$gid") ;;
    0:* | 1000:1000) chown "$uid:$gid" "$state_dir" || echo "shibaws: warning: failed to change the owner of $state_dir to $uid:$gid" >&2 ;;
    esac
fi

# exec keeps shibaws as tini's child, so signals reach it. With --browser-mode
# xvfb, shibaws starts Xvfb itself on a free display.
if [ "$uid" = 0 ]; then
    exec shibaws "$@"
fi
exec setpriv --reuid="$uid" --regid="$gid" --clear-groups -- shibaws "$@"
