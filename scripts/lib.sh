# Shared set-up for scripts/test and scripts/demo. Every step is idempotent: it checks what
# is already there and only does the missing work, so a fresh clone and a warm machine run
# the same commands.

set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TOOLS="$ROOT/target/tools"
mkdir -p "$TOOLS"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# The AsyncAPI 3.0.0 JSON Schema, from the AsyncAPI project's own package, so the tests
# validate our AsyncAPI documents against the specification rather than our reading of it.
ASYNCAPI_SPECS_VERSION=6.8.0
fetch_asyncapi_schema() {
    local schema="$TOOLS/asyncapi-3.0.0.schema.json"
    if [[ ! -s $schema ]]; then
        command -v npm >/dev/null || die "npm is needed to fetch the AsyncAPI schema (install Node.js and npm)"
        say "fetching the AsyncAPI 3.0.0 schema (@asyncapi/specs $ASYNCAPI_SPECS_VERSION)"
        local tmp
        tmp=$(mktemp -d)
        (cd "$tmp" && npm pack --silent "@asyncapi/specs@$ASYNCAPI_SPECS_VERSION" >/dev/null 2>&1) \
            || die "npm could not fetch @asyncapi/specs@$ASYNCAPI_SPECS_VERSION"
        tar -xzf "$tmp"/asyncapi-specs-*.tgz -C "$tmp" package/schemas/3.0.0.json
        mv "$tmp/package/schemas/3.0.0.json" "$schema"
        rm -rf "$tmp"
    fi
    export TIDINGS_ASYNCAPI_SCHEMA="$schema"
}

# The local AWS-API server the tests talk to (SNS, SQS, DynamoDB): moto's server, from PyPI,
# pinned, in a project-local venv so neither the system Python nor the user's site-packages
# decide what runs.
MOTO_VERSION=5.2.5
VENV="$ROOT/.venv"

# Creates .venv if missing and installs the pinned moto[server] when it is not already there
# at that version. Quiet when there is nothing to do.
ensure_venv() {
    command -v python3 >/dev/null || die "python3 is needed for the local AWS server (install Python 3 with venv)"
    if [[ ! -x $VENV/bin/python ]]; then
        say "creating the Python venv in .venv"
        python3 -m venv "$VENV" || die "python3 -m venv failed (on Debian/Ubuntu: apt-get install python3-venv)"
    fi
    local installed
    installed=$("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("moto"))' 2>/dev/null || true)
    # moto_server only exists with the [server] extra, so its absence means the extra is missing.
    if [[ $installed != "$MOTO_VERSION" || ! -x $VENV/bin/moto_server ]]; then
        say "installing moto[server] $MOTO_VERSION into .venv"
        "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
            "moto[server]==$MOTO_VERSION" || die "pip could not install moto[server]==$MOTO_VERSION"
    fi
}

# The deploy and local-workflow tools, also from PyPI, pinned, in the same venv: cfn-lint
# checks template.yaml against the CloudFormation and SAM specifications offline, and
# cargo-lambda (a binary wheel: no Zig or Docker needed for `watch` and `invoke`) runs the
# shop's consumers locally and in their test. moto also depends on cfn-lint, so the pin here
# is what both get.
CFN_LINT_VERSION=1.58.0
CARGO_LAMBDA_VERSION=1.9.2

# The version of the Python distribution $1 installed in .venv, or nothing.
venv_package_version() {
    "$VENV/bin/python" -c 'import importlib.metadata as m, sys; print(m.version(sys.argv[1]))' "$1" 2>/dev/null || true
}

# Installs the pinned cfn-lint and cargo-lambda into .venv when they are not there at those
# versions, and puts .venv/bin on PATH so that `cargo lambda` (cargo finds subcommands on
# PATH) and the tests that drive it find them. Quiet when there is nothing to do.
ensure_dev_tools() {
    ensure_venv
    local wanted=()
    if [[ $(venv_package_version cfn-lint) != "$CFN_LINT_VERSION" || ! -x $VENV/bin/cfn-lint ]]; then
        wanted+=("cfn-lint==$CFN_LINT_VERSION")
    fi
    if [[ $(venv_package_version cargo-lambda) != "$CARGO_LAMBDA_VERSION" || ! -x $VENV/bin/cargo-lambda ]]; then
        wanted+=("cargo-lambda==$CARGO_LAMBDA_VERSION")
    fi
    if ((${#wanted[@]})); then
        say "installing ${wanted[*]} into .venv"
        "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "${wanted[@]}" \
            || die "pip could not install ${wanted[*]}"
    fi
    export PATH="$VENV/bin:$PATH"
}

# Lints template.yaml with cfn-lint (after ensure_dev_tools); any finding fails.
lint_template() {
    "$VENV/bin/cfn-lint" "$ROOT/template.yaml" || die "cfn-lint found problems in template.yaml (above)"
}

# The pid of the moto server this shell started, for stop_aws_server.
AWS_SERVER_PID=

# Stops the server started by start_aws_server, if any; safe to call more than once.
stop_aws_server() {
    if [[ -n $AWS_SERVER_PID ]]; then
        kill "$AWS_SERVER_PID" 2>/dev/null || true
        wait "$AWS_SERVER_PID" 2>/dev/null || true
        AWS_SERVER_PID=
    fi
}

# Starts moto's server on a free loopback port, waits until it answers, and exports its
# endpoint and dummy credentials for the tests. The server is stopped when the shell exits,
# however it exits.
start_aws_server() {
    local log="$TOOLS/moto.log" port
    # Ask the kernel for a free port; the tiny window before moto binds it is acceptable for
    # a test run, and a lost race shows up below as a server that exits at once.
    port=$("$VENV/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    say "starting the local AWS server (moto $MOTO_VERSION) on 127.0.0.1:$port"
    "$VENV/bin/moto_server" -H 127.0.0.1 -p "$port" >"$log" 2>&1 &
    AWS_SERVER_PID=$!
    trap stop_aws_server EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM

    local endpoint="http://127.0.0.1:$port" deadline=$((SECONDS + 30))
    until "$VENV/bin/python" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=1)' \
        "$endpoint/moto-api/" >/dev/null 2>&1; do
        if ! kill -0 "$AWS_SERVER_PID" 2>/dev/null; then
            tail -n 20 "$log" >&2 || true
            AWS_SERVER_PID=
            die "the local AWS server exited at start (log above, full log in target/tools/moto.log)"
        fi
        if ((SECONDS >= deadline)); then
            tail -n 20 "$log" >&2 || true
            stop_aws_server
            die "the local AWS server did not answer on $endpoint within 30 s (log above, full log in target/tools/moto.log)"
        fi
        sleep 0.2
    done

    export TIDINGS_AWS_ENDPOINT=$endpoint
    # moto accepts any credentials; fixed dummy ones keep the SDK from looking for real ones.
    export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing
    export AWS_REGION=eu-west-1 AWS_DEFAULT_REGION=eu-west-1
}
