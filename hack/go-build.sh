# Shared by the hack/build-*.sh scripts (sourced, not run): the Go environment every build
# uses (one module and build cache under $KUBETUNE_CACHE, no toolchain download, static
# binaries) and the wrapper-module build of one main package.
source "$(dirname "${BASH_SOURCE[0]}")/versions.sh"

export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod
export GOMODCACHE="$KUBETUNE_CACHE/go/mod" GOCACHE="$KUBETUNE_CACHE/go/build"
WORK="$KUBETUNE_CACHE/src"
mkdir -p "$WORK"

log() { echo "[$(basename "$0" .sh) $(date +%T)] $*" >&2; }

# Builds one main package of a module into bin_dir/name, inside a throwaway wrapper module
# that requires the module: `go install` refuses a module carrying replace directives, and
# those directives are ignored for a dependency anyway (the wrapper repeats any it needs).
build_module() {
  local bin_dir=$1 name=$2 module=$3 version=$4 pkg=$5 ld=${6:-}
  [ -x "$bin_dir/$name" ] && return
  local dir="$WORK/$name-$version"
  mkdir -p "$dir" "$bin_dir"
  log "building $name $version"
  (cd "$dir" && { [ -f go.mod ] || go mod init "local/$name" >&2; } &&
    go get "$module@$version" >&2 &&
    nice -n 15 go build -trimpath -ldflags "-s -w $ld" -o "$bin_dir/$name.tmp" "$pkg")
  mv "$bin_dir/$name.tmp" "$bin_dir/$name"
}
