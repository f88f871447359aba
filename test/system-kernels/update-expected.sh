#!/bin/sh
# Rebuilds the test kernels and regenerates their expected outputs from QEMU (qemu-system-x86_64
# 7.2 with TCG), with the SDM departures listed in kernels.ts patched in. Usage:
#   test/system-kernels/update-expected.sh [kernel...]
set -e
cd "$(dirname "$0")/../.."
make -s -C guest-images
exec node_modules/.bin/tsx test/system-kernels/update-expected.ts "$@"
