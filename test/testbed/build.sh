#!/usr/bin/env bash
# Builds the Kubernetes test bed binaries from Go modules (no Docker, no release downloads):
#   kube-apiserver, kubectl  from k8s.io/kubernetes
#   etcd                     from go.etcd.io/etcd/server/v3
# Each is built in a throwaway Go module under the cache dir (never inside the repository) and
# cached by version, so a second run only checks `--version` and takes seconds.
# Progress goes to stderr; the last line on stdout is PODSEC_FIM_TESTBED_BIN=<dir>.
set -euo pipefail

# Pinned versions. 1.36 is the newest minor whose go.mod asks for Go 1.26.0 (installed: 1.26.8);
# etcd 3.6 is the series kube-apiserver 1.36 links its client from.
# v1.36.4 is the newest 1.36 patch the proxy serves with a checksum-database entry (v1.36.5: sumdb 404).
K8S_VERSION=1.36.4
ETCD_VERSION=3.6.16

CACHE_ROOT=${PODSEC_FIM_TESTBED_CACHE:-$HOME/.cache/podsec-fim-testbed}
BIN_DIR=$CACHE_ROOT/$K8S_VERSION-etcd$ETCD_VERSION/bin
LOG_DIR=$CACHE_ROOT/logs
GO=${GO:-$(command -v go || echo /usr/local/go/bin/go)}

# Everything Go writes stays under the cache root; never fetch another toolchain; 2 cores.
export GOMODCACHE=$CACHE_ROOT/gomod GOCACHE=$CACHE_ROOT/gocache GOPATH=$CACHE_ROOT/gopath
export GOFLAGS=-mod=mod GOTOOLCHAIN=local CGO_ENABLED=0 GOWORK=off

log() { printf '[testbed build] %s\n' "$*" >&2; }
die() { printf '[testbed build] FAILED at step "%s": %s\n' "$1" "$2" >&2; exit 1; }

# run <step name> <command...>: output goes to a per-step log; on failure show its tail and stop.
run() {
  local name=$1; shift
  local logf=$LOG_DIR/${name//[^A-Za-z0-9._-]/_}.log
  if ! "$@" >"$logf" 2>&1; then
    tail -n 40 "$logf" >&2 || true
    die "$name" "$(tail -n 1 "$logf") (command: $*; full log: $logf)"
  fi
}

# works <bin> <expected version> <args...>: the binary exists, runs, and reports the pinned version.
works() {
  local bin=$1 want=$2 out; shift 2
  [[ -x $bin ]] || return 1
  # Capture first: `cmd | grep -q` can SIGPIPE cmd, which pipefail would report as a failure.
  out=$("$bin" "$@" 2>&1) || return 1
  grep -qF -- "$want" <<<"$out"
}

kube_ldflags() {
  local minor=${K8S_VERSION#1.}; minor=${minor%%.*}
  local date; date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  local ldf="-s -w" k
  # The same variables upstream's hack/lib/version.sh stamps, so `kubectl version` is truthful.
  # The proxy does not tell us the commit, so gitCommit is blanked rather than left as "$Format:%H$".
  for k in gitVersion=v$K8S_VERSION gitMajor=1 gitMinor=$minor gitCommit= gitTreeState=clean buildDate=$date; do
    ldf+=" -X k8s.io/component-base/version.$k -X k8s.io/client-go/pkg/version.$k"
  done
  printf '%s' "$ldf"
}

# Prepares a throwaway module that can build k8s.io/kubernetes commands at $K8S_VERSION.
prepare_kube_module() {
  local dir=$1 kmod
  cd "$dir"
  run "kube: go mod init" "$GO" mod init local/kube-testbed-build
  run "kube: download k8s.io/kubernetes@v$K8S_VERSION from the module proxy" \
    "$GO" mod download k8s.io/kubernetes@v$K8S_VERSION
  kmod=$GOMODCACHE/cache/download/k8s.io/kubernetes/@v/v$K8S_VERSION.mod
  [[ -s $kmod ]] || die "kube: read go.mod" "missing $kmod"
  # k/k requires its staging modules at the fake v0.0.0 and maps them to ./staging; a dependency's
  # replaces are ignored, so map each one to its published v0.X.Y twin here.
  local -a edits=()
  local m g
  for m in $(sed -n 's#^[[:space:]]*\(k8s.io/[A-Za-z0-9._-]*\) => \./staging/.*#\1#p' "$kmod"); do
    edits+=("-replace=$m=$m@v0.${K8S_VERSION#1.}")
  done
  ((${#edits[@]} > 0)) || die "kube: derive staging replaces" "no ./staging replaces found in $kmod"
  # GODEBUG defaults come from the main module, so copy k/k's godebug settings to match official builds.
  for g in $(sed -n 's/^godebug[[:space:]]\{1,\}\([A-Za-z0-9_.]*=[A-Za-z0-9_.]*\)[[:space:]]*$/\1/p' "$kmod"); do
    edits+=("-godebug=$g")
  done
  run "kube: go mod edit (${#edits[@]} replace/godebug lines)" "$GO" mod edit "${edits[@]}"
  run "kube: go get k8s.io/kubernetes@v$K8S_VERSION" \
    "$GO" get "k8s.io/kubernetes/cmd/kube-apiserver@v$K8S_VERSION" "k8s.io/kubernetes/cmd/kubectl@v$K8S_VERSION"
}

# timed_build <name> <output> <go build args...>
timed_build() {
  local name=$1 out=$2; shift 2
  local t0=$SECONDS
  log "building $name ..."
  run "build $name" "$GO" build -p 2 -trimpath -o "$out" "$@"
  log "built $name in $((SECONDS - t0))s ($(du -h "$out" | cut -f1))"
}

build_kube() {
  local work=$1
  mkdir -p "$work/kube"
  (
    local t0=$SECONDS
    prepare_kube_module "$work/kube"
    log "resolved k8s.io/kubernetes v$K8S_VERSION and its dependencies in $((SECONDS - t0))s"
    local ldf; ldf=$(kube_ldflags)
    if ! works "$BIN_DIR/kube-apiserver" "v$K8S_VERSION" --version; then
      timed_build "kube-apiserver v$K8S_VERSION" "$work/kube-apiserver" -ldflags "$ldf" k8s.io/kubernetes/cmd/kube-apiserver
      mv -f "$work/kube-apiserver" "$BIN_DIR/kube-apiserver"
    fi
    if ! works "$BIN_DIR/kubectl" "v$K8S_VERSION" version --client; then
      timed_build "kubectl v$K8S_VERSION" "$work/kubectl" -ldflags "$ldf" k8s.io/kubernetes/cmd/kubectl
      mv -f "$work/kubectl" "$BIN_DIR/kubectl"
    fi
  )
}

build_etcd() {
  local work=$1
  mkdir -p "$work/etcd"
  (
    cd "$work/etcd"
    # server/v3's own go.mod replaces its siblings with ../api etc., but requires them at real
    # tags, so a plain requirement from a throwaway module resolves without any replace.
    run "etcd: go mod init" "$GO" mod init local/etcd-testbed-build
    local t0=$SECONDS
    run "etcd: go get go.etcd.io/etcd/server/v3@v$ETCD_VERSION from the module proxy" \
      "$GO" get "go.etcd.io/etcd/server/v3@v$ETCD_VERSION"
    log "resolved go.etcd.io/etcd/server/v3 v$ETCD_VERSION in $((SECONDS - t0))s"
    timed_build "etcd v$ETCD_VERSION" "$work/etcd-bin" -ldflags "-s -w" go.etcd.io/etcd/server/v3
    mv -f "$work/etcd-bin" "$BIN_DIR/etcd"
  )
}

main() {
  local t0=$SECONDS
  [[ -x $GO ]] || die "find go" "no go toolchain (looked for 'go' on PATH and /usr/local/go/bin/go)"
  "$GO" version >/dev/null 2>&1 || die "run go" "'$GO version' failed"
  mkdir -p "$BIN_DIR" "$LOG_DIR" || die "create cache dir" "cannot create $BIN_DIR"
  # Parallel test files may call this at once: one builds, the others wait and then find the cache.
  exec 9>"$CACHE_ROOT/.build.lock"
  flock 9 || die "lock cache" "flock $CACHE_ROOT/.build.lock failed"

  local kube_ok=1 etcd_ok=1
  works "$BIN_DIR/kube-apiserver" "v$K8S_VERSION" --version || kube_ok=0
  works "$BIN_DIR/kubectl" "v$K8S_VERSION" version --client || kube_ok=0
  works "$BIN_DIR/etcd" "$ETCD_VERSION" --version || etcd_ok=0
  if ((kube_ok && etcd_ok)); then
    log "cached: kube-apiserver/kubectl v$K8S_VERSION, etcd v$ETCD_VERSION in $BIN_DIR ($((SECONDS - t0))s)"
  else
    log "$("$GO" version); cache $CACHE_ROOT"
    local work; work=$(mktemp -d "$CACHE_ROOT/work.XXXXXX") || die "create work dir" "mktemp failed"
    # shellcheck disable=SC2064 # expand $work now: it is local
    trap "rm -rf '$work'" EXIT
    ((kube_ok)) || build_kube "$work"
    ((etcd_ok)) || build_etcd "$work"
    works "$BIN_DIR/kube-apiserver" "v$K8S_VERSION" --version || die "verify kube-apiserver" "--version does not report v$K8S_VERSION"
    works "$BIN_DIR/kubectl" "v$K8S_VERSION" version --client || die "verify kubectl" "version --client does not report v$K8S_VERSION"
    works "$BIN_DIR/etcd" "$ETCD_VERSION" --version || die "verify etcd" "--version does not report $ETCD_VERSION"
    log "done in $((SECONDS - t0))s"
  fi
  printf 'PODSEC_FIM_TESTBED_BIN=%s\n' "$BIN_DIR"
}

main "$@"
