#!/usr/bin/env bash
# Regenerates Sources/TprofExport/Generated/profile.pb.swift from Protos/profile.proto.
# Needs protoc (apt-get install protobuf-compiler) and protoc-gen-swift built from the swift-protobuf version in
# Package.swift (building the plugin takes several minutes, which is why the generated code is committed):
#   git clone https://github.com/apple/swift-protobuf && cd swift-protobuf && git checkout 1.39.0 &&
#   swift build -c release --product protoc-gen-swift
# then: PROTOC_GEN_SWIFT=/path/to/swift-protobuf/.build/release/protoc-gen-swift scripts/generate-protos.sh
set -euo pipefail
cd "$(dirname "$0")/.."
plugin=${PROTOC_GEN_SWIFT:-$(command -v protoc-gen-swift || true)}
[ -x "$plugin" ] || { echo "set PROTOC_GEN_SWIFT to the protoc-gen-swift binary" >&2; exit 1; }
mkdir -p Sources/TprofExport/Generated
protoc --plugin=protoc-gen-swift="$plugin" --swift_opt=Visibility=Public \
    --swift_out=Sources/TprofExport/Generated -I Protos Protos/profile.proto
echo "wrote Sources/TprofExport/Generated/profile.pb.swift"
