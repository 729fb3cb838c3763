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
