#!/usr/bin/env bash
# creditstream's two entry points on a Debian/Ubuntu machine:
#   ./run.sh demo [demo options]   build in release and run the demo
#   ./run.sh test                  run the whole test suite (what CI runs)
# Both install what the project needs from Debian's packages when it is missing.
set -euo pipefail
cd "$(dirname "$0")"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

apt_install() {
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  say "installing $* (Debian packages)"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >/dev/null
}

have() { command -v "$1" >/dev/null || [ -x "/usr/sbin/$1" ]; }

need_tools() {
  if ! command -v cargo >/dev/null; then
    echo "cargo is missing: install Rust with rustup (https://rustup.rs), then run this again." >&2
    exit 1
  fi
  have nats-server || apt_install nats-server
  if ! command -v cc >/dev/null; then apt_install build-essential; fi
}

need_test_tools() {
  # prometheus and promtool: the monitoring tests check the dashboards and rules with them.
  # Without recommends, so no node exporter comes along.
  if ! have prometheus || ! have promtool; then
    apt_install --no-install-recommends prometheus
  fi
}

cmd="${1:-}"
[ $# -gt 0 ] && shift
case "$cmd" in
  demo)
    need_tools
    say "building creditstream (release)"
    # --workspace: the same feature set as the test suite, so one build serves both.
    cargo build --release --locked --workspace --bin creditstream
    target_dir="$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')"
    exec "${target_dir:-target}/release/creditstream" demo "$@"
    ;;
  test)
    need_tools
    need_test_tools
    say "cargo fmt --check"
    cargo fmt --all -- --check
    say "cargo clippy"
    cargo clippy --release --locked --workspace --all-targets -- -D warnings
    say "cargo test"
    cargo test --release --locked --workspace
    say "cargo doc"
    RUSTDOCFLAGS="-D warnings" cargo doc --release --locked --workspace --no-deps
    say "all checks passed"
    ;;
  *)
    echo "usage: ./run.sh demo [options]   |   ./run.sh test" >&2
    exit 2
    ;;
esac
