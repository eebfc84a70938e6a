#!/bin/sh
# Prints the directory holding the official OTLP .proto files, as shipped in the npm package
# @opentelemetry/otlp-grpc-exporter-base@0.38.0 (package/build/protos), fetching them once into
# a cache outside the repository: ${OTEL_H_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/otel-h}.
# Nothing third-party is committed. Prints "SKIPPED: reason" and exits 1 when protoc, npm or
# the registry is unavailable.
ver=0.38.0
cache="${OTEL_H_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/otel-h}"
dir="$cache/otlp-protos-$ver"
want="opentelemetry/proto/collector/trace/v1/trace_service.proto"
command -v protoc >/dev/null 2>&1 || { echo "SKIPPED: protoc not found (apt-get install protobuf-compiler)"; exit 1; }
if [ -f "$dir/$want" ]; then echo "$dir"; exit 0; fi
command -v npm >/dev/null 2>&1 || { echo "SKIPPED: npm not found"; exit 1; }
mkdir -p "$cache" || { echo "SKIPPED: cannot create $cache"; exit 1; }
tmp=$(mktemp -d "$cache/fetch.XXXXXX") || { echo "SKIPPED: mktemp failed"; exit 1; }
trap 'rm -rf "$tmp"' EXIT
if ! (cd "$tmp" && timeout 180 npm pack --silent "@opentelemetry/otlp-grpc-exporter-base@$ver" >/dev/null 2>&1); then
    echo "SKIPPED: npm pack @opentelemetry/otlp-grpc-exporter-base@$ver failed (offline?)"
    exit 1
fi
tar -xzf "$tmp"/*.tgz -C "$tmp" package/build/protos 2>/dev/null && [ -f "$tmp/package/build/protos/$want" ] ||
    { echo "SKIPPED: unexpected package layout"; exit 1; }
# another test may have won the race: keep whichever landed first
mv -T "$tmp/package/build/protos" "$dir" 2>/dev/null || true
[ -f "$dir/$want" ] || { echo "SKIPPED: could not install the protos into $dir"; exit 1; }
echo "$dir"
