#!/usr/bin/env bash
# Builds the Pulumi CLI pinned in go.mod into .tools/bin/, with the plugin launcher that Pulumi's
# release archive ships beside the binary for dynamic providers. `make` runs this once per machine, and again only when
# go.mod or go.sum change (the pin moved).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out="$root/.tools/bin"
version=$(awk '$1 == "github.com/pulumi/pulumi/pkg/v3" { print $2 }' "$here/go.mod")

if ! command -v go >/dev/null; then
    echo "building the Pulumi CLI $version needs Go (1.26 or newer) on PATH and the Go module proxy;" \
        "or set SIGSENTRY_PULUMI_CLI to a pulumi binary at least as new (README.md)" >&2
    exit 1
fi
echo "building the Pulumi CLI $version from source, first time only (about 10 minutes on 2 cores)"
start=$(date +%s)
mkdir -p "$out"
cd "$here"
# GOTOOLCHAIN=local: go.mod names a Go this machine has; never fetch another toolchain.
GOTOOLCHAIN=local go build -trimpath \
    -ldflags "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$version" \
    -o "$out/pulumi.partial" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
install -m 0755 "$here"/launchers/* "$out/"
# Renamed last, so an interrupted build never leaves a binary that make would take as up to date.
mv "$out/pulumi.partial" "$out/pulumi"
echo "built $out/pulumi ($("$out/pulumi" version)) in $(($(date +%s) - start)) s"
