#!/usr/bin/env bash
# Regenerates externalscaler/*.pb.go from externalscaler/externalscaler.proto (KEDA's protocol).
# The generated files are committed, so building and testing need neither protoc nor this
# script. Needs protoc (Debian: apt-get install -y protobuf-compiler) and Go; the two plugins
# are installed at pinned versions into a temporary directory.
set -euo pipefail
cd "$(dirname "$0")"

PROTOC_GEN_GO=v1.36.11      # google.golang.org/protobuf/cmd/protoc-gen-go
PROTOC_GEN_GO_GRPC=v1.6.2   # google.golang.org/grpc/cmd/protoc-gen-go-grpc

bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
GOBIN="$bin" go install "google.golang.org/protobuf/cmd/protoc-gen-go@$PROTOC_GEN_GO"
GOBIN="$bin" go install "google.golang.org/grpc/cmd/protoc-gen-go-grpc@$PROTOC_GEN_GO_GRPC"

# the proto's go_package is ".;externalscaler": paths=source_relative writes beside it
protoc --proto_path=externalscaler \
    --plugin=protoc-gen-go="$bin/protoc-gen-go" \
    --plugin=protoc-gen-go-grpc="$bin/protoc-gen-go-grpc" \
    --go_out=externalscaler --go_opt=paths=source_relative \
    --go-grpc_out=externalscaler --go-grpc_opt=paths=source_relative \
    externalscaler/externalscaler.proto
gofmt -l externalscaler
echo "generated externalscaler/externalscaler.pb.go and externalscaler_grpc.pb.go"
