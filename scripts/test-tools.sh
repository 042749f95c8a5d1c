#!/bin/sh
# Installs the tools weir's end-to-end tests use besides Go: kcat, the
# Kafka command-line client from Debian, with which the interoperability
# test feeds weir and reads what it made. Does nothing when kcat is on PATH.
set -eu

if command -v kcat >/dev/null 2>&1; then
	exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
	echo "test-tools: kcat is missing and there is no apt-get to install it; install kcat by hand" >&2
	exit 1
fi
sudo=""
if [ "$(id -u)" != 0 ]; then
	if ! command -v sudo >/dev/null 2>&1; then
		echo "test-tools: kcat is missing; installing it needs root or sudo" >&2
		exit 1
	fi
	sudo="sudo"
fi
echo "test-tools: installing kcat with apt-get" >&2
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# Quiet unless it fails: then the whole log is shown.
if ! { $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends kcat; } >"$log" 2>&1; then
	cat "$log" >&2
	echo "test-tools: installing kcat failed" >&2
	exit 1
fi
command -v kcat >/dev/null 2>&1 || { echo "test-tools: kcat is still not on PATH after installing it" >&2; exit 1; }
