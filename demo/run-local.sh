#!/usr/bin/env bash
# Run the whole login against the demo world on this machine's loopback, without Docker:
# the Shibboleth IdP and Duo stand-ins, SimpleSAMLphp and the strict STS from tests/servers.
# The simulated phone approves the push at once. Credentials go to demo/aws-local, never
# to your ~/.aws. Installs what it needs (as the tests do), so run it as root:
#   sudo bash demo/run-local.sh [shibboleth|simplesamlphp]
set -euo pipefail
cd "$(dirname "$0")/.."
idp="${1:-shibboleth}"

bash tests/setup/system.sh
bash tests/setup/python.sh

log=$(mktemp)
PYTHONPATH=tests .venv/bin/python demo/standins.py --max-lifetime 600 >"$log" 2>&1 &
standins=$!
trap 'kill "$standins" 2>/dev/null; wait "$standins" 2>/dev/null; rm -f "$log"' EXIT

# Wait at most 60 s for the servers to report their URLs.
for _ in $(seq 120); do
    grep -q "demo stand-ins ready" "$log" && break
    kill -0 "$standins" 2>/dev/null || { cat "$log"; exit 1; }
    sleep 0.5
done
grep -q "demo stand-ins ready" "$log" || { echo "demo servers did not start:"; cat "$log"; exit 1; }
url() { sed -n "s/^$1=//p" "$log"; }

case "$idp" in
    shibboleth) start=$(url SHIBBOLETH_START_URL); sign_in=$(url SHIBBOLETH_SIGN_IN_URL) ;;
    simplesamlphp) start=$(url SIMPLESAML_START_URL); sign_in=$(url SIMPLESAML_SIGN_IN_URL) ;;
    *) echo "unknown demo IdP '$idp': use shibboleth or simplesamlphp" >&2; exit 2 ;;
esac

export AWS_SHARED_CREDENTIALS_FILE="$PWD/demo/aws-local/credentials"
export AWS_CONFIG_FILE="$PWD/demo/aws-local/config"
export AWS_ENDPOINT_URL_STS=$(url AWS_ENDPOINT_URL_STS)

echo "Logging in as alice at $start"
.venv/bin/shibaws login -v --idp-url "$start" --sign-in-url "$sign_in" \
    --username alice --password-stdin --profile demo --force <<<"alice-pass"
echo "Asking the demo STS who the new profile is:"
.venv/bin/aws --profile demo --region us-east-1 sts get-caller-identity
