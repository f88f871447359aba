#!/bin/sh
# Rebuilds the test kernels and regenerates their expected outputs from QEMU (qemu-system-x86_64
# 7.2 with TCG), with the SDM departures listed in kernels.ts patched in. Usage:
#   test/system-kernels/update-expected.sh [kernel...]
set -e
cd "$(dirname "$0")/../.."
kernels=$(sed -n 's/^TEST_KERNELS := //p' guest-images/tests/tests.mk)
targets=""
for k in $kernels; do targets="$targets tests/$k.bin"; done
make -s -C guest-images $targets   # only the kernels: other images' builds are not needed here
exec node_modules/.bin/tsx test/system-kernels/update-expected.ts "$@"
