#!/bin/sh
# install-peers.sh: installs the emulators the benchmark suite compares ringvm with, through
# apt-get and npm only: QEMU (TCG), Bochs with its BIOS images and terminal display, SeaBIOS (v86
# boots from it), and v86 from npm without touching package.json. bench/run.ts uses whichever of
# them it finds; a missing peer is left out of the table with a note. Run as root (or with sudo).
set -e
cd "$(dirname "$0")/.."
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
$SUDO apt-get update
# bsdutils: script(1), which gives Bochs's text display the terminal it wants; nasm: the Bochs boot sector;
# gcc-multilib: the 32-bit native program.
$SUDO apt-get install -y qemu-system-x86 bochs bochsbios bochs-term vgabios seabios bsdutils nasm gcc-multilib
npm install --no-save v86
