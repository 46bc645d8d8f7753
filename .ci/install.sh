#!/usr/bin/env bash
# `make install` / `make uninstall`: puts the built package on a node, or takes it away again.
#
#   .ci/install.sh install|uninstall     (DESTDIR, PREFIX=/usr, SYSCONFDIR=/etc from the environment)
#
# Layout (PREFIX=/usr):
#   /usr/lib/podsec-fim/                 package.json, dist/, bin/, production node_modules (copied from
#                                        this build: better-sqlite3 is native, so install on the Node.js
#                                        and distribution it was built with), .installed (the manifest)
#   /usr/bin/podsec-fim*                 relative symlinks to ../lib/podsec-fim/bin/*.js
#   /usr/lib/systemd/user/               units that live beside rootlesskit.service (they name it), as the
#                                        agent does: u7s-admin's user units, like podsec's kubelet.service
#   /usr/lib/systemd/system/             every other unit (the aggregator's standalone system service)
#   /usr/share/podsec-fim/kubernetes/    etc/kubernetes/* (manifests: CRDs, RBAC, Deployment)
#   /usr/share/doc/podsec-fim/README.md
#   /etc/podsec/fim/agent.json           from etc/agent.example.json   } configuration: never overwritten
#   /etc/podsec/crontabs/*               from crontabs/*                } once edited (see install_conf)
# `/usr/bin/podsec-fim` in units and crontabs becomes `$PREFIX/bin/podsec-fim`. The state database
# (in u7s-admin's $XDG_STATE_HOME) is never touched by either action.
set -euo pipefail
cd "$(dirname "$0")/.."
# u7s-admin must read the config and the package whatever umask root has. install -m/-D and the
# chmod in copy_package set every mode already (the test installs under umask 077); this keeps any
# later addition that creates files another way from inheriting a strict umask.
umask 022

ACTION="${1:-}"
DESTDIR="${DESTDIR:-}"
PREFIX="${PREFIX:-/usr}"
SYSCONFDIR="${SYSCONFDIR:-/etc}"
# Paths end up in sed replacements and unit files: accept plain absolute paths only.
for v in PREFIX SYSCONFDIR; do
  [[ "${!v}" =~ ^/[A-Za-z0-9/._-]*$ ]] || { echo "install: $v must be an absolute path of [A-Za-z0-9/._-], got '${!v}'" >&2; exit 64; }
done
[[ -z "$DESTDIR" || "$DESTDIR" == /* ]] || { echo "install: DESTDIR must be an absolute path, got '$DESTDIR'" >&2; exit 64; }

LIB="$PREFIX/lib/podsec-fim"
SHARE="$PREFIX/share/podsec-fim"
# Pristine copies of the configuration as shipped, to tell an edited config from an untouched one.
PRISTINE="$SHARE/pristine"
MANIFEST="$LIB/.installed"
D="$DESTDIR"

note () { echo "podsec-fim: $*" >&2; }

# Removes the empty directories from $1 up to, not including, $2 (never a directory of the system).
prune_dirs () {
  local dir="$1" stop="$2"
  while [ "$dir" != "$stop" ] && [ "${dir#"$stop"/}" != "$dir" ] && rmdir "$dir" 2>/dev/null; do dir="$(dirname "$dir")"; done
}

is_user_unit () { grep -Eq '^[A-Za-z]+=(.*[ =])?rootlesskit\.service( |$)' "$1"; }

with_prefix () { sed "s|/usr/bin/podsec-fim|$PREFIX/bin/podsec-fim|g" "$1"; }

# Production packages from package-lock.json, as `required|optional <path>` (top-level entries;
# nested ones come with their parent).
production_packages () {
  node -e '
    const lock = JSON.parse(require("fs").readFileSync("package-lock.json", "utf8"))
    for (const [key, p] of Object.entries(lock.packages)) {
      if (key === "" || p.dev === true || key.slice("node_modules/".length).includes("node_modules/")) continue
      console.log(`${p.optional === true ? "optional" : "required"} ${key}`)
    }'
}

copy_package () {
  local stage="$1"
  install -d -m 0755 "$stage" "$stage/node_modules"
  install -m 0644 package.json package-lock.json "$stage/"
  cp -R dist bin "$stage/"
  local need pkg
  while read -r need pkg; do
    # An optional package (a platform-specific binary) may rightly be absent from this build.
    [ -d "$pkg" ] || [ "$need" = optional ] || { note "$pkg is missing from node_modules: run make build first"; exit 66; }
    [ -d "$pkg" ] || continue
    install -d -m 0755 "$stage/$(dirname "$pkg")"
    cp -RL "$pkg" "$stage/$pkg"
  done < <(production_packages)
  # better-sqlite3 needs only its compiled addon at run time, not its sources and object files.
  local sqlite="$stage/node_modules/better-sqlite3"
  rm -rf "$sqlite/deps" "$sqlite/src"
  find "$sqlite/build" -mindepth 1 -not -path "$sqlite/build/Release" -not -path "$sqlite/build/Release/better_sqlite3.node" -delete 2>/dev/null || true
  find "$stage/dist" -name '*.map' -delete
  chmod -R u+rwX,go+rX,go-w "$stage"
}

# Installs one package file outside $LIB and records it in the manifest.
put () {
  local mode="$1" src="$2" dest="$3"
  install -D -m "$mode" "$src" "$D$dest"
  echo "file $dest" >> "$STAGE/.installed"
}

# Configuration the way dpkg treats conffiles: installed when absent; replaced when it still equals
# the copy shipped last time (nobody edited it); otherwise kept, and the new version put beside it
# as <file>.new for the administrator to merge.
install_conf () {
  local src="$1" dest="$2" mode="$3" new
  new="$(mktemp)"
  with_prefix "$src" > "$new"
  if [ ! -e "$D$dest" ] || cmp -s "$D$dest" "$D$PRISTINE$dest"; then
    install -D -m "$mode" "$new" "$D$dest"
    rm -f "$D$dest.new"
  elif ! cmp -s "$D$PRISTINE$dest" "$new" && ! cmp -s "$D$dest" "$new"; then
    install -m "$mode" "$new" "$D$dest.new"
    note "kept your edited $dest; the new version is $dest.new"
  fi
  install -D -m 0644 "$new" "$D$PRISTINE$dest"
  rm -f "$new"
  echo "conf $dest" >> "$STAGE/.installed"
}

remove_stale () {
  # Files the previous version installed that this one does not (a renamed unit, a dropped bin).
  [ -f "$D$MANIFEST" ] || return 0
  local kind path
  while read -r kind path; do
    [ "$kind" = file ] || continue
    grep -qxF "file $path" "$STAGE/.installed" || rm -f "$D$path"
  done < "$D$MANIFEST"
}

# Root's crontab, the podsec way: our lines appended when absent, exactly they removed on uninstall
# (podsec-fim crontab install|remove). CRONTAB_SPOOL=<file> edits that spool file under DESTDIR
# instead; a staged install (DESTDIR set) without it, or a non-root one, leaves crontabs alone.
root_crontab () {
  local action="$1" args=()
  if [ -n "${CRONTAB_SPOOL:-}" ]; then
    args=(--spool "$D$CRONTAB_SPOOL")
  elif [ -n "$D" ] || [ "$(id -u)" != 0 ]; then
    return 0
  fi
  "$D$PREFIX/bin/podsec-fim" crontab "$action" --lines "$D$SYSCONFDIR/podsec/crontabs/podsec-fim" "${args[@]}" ||
    { note "could not $action the report lines in root's crontab"; exit 73; }
}

do_install () {
  [ -f dist/cli/main.js ] && [ -f dist/agent/main.js ] || { note "dist/ is not built: run make build first"; exit 66; }
  install -d -m 0755 "$D$PREFIX/lib"
  STAGE="$D$LIB.new"
  rm -rf "$STAGE"
  copy_package "$STAGE"
  : > "$STAGE/.installed"
  local f name
  for f in bin/*.js; do
    name="$(basename "$f" .js)"
    install -d -m 0755 "$D$PREFIX/bin"
    ln -sfn "../lib/podsec-fim/bin/$name.js" "$D$PREFIX/bin/$name"
    echo "file $PREFIX/bin/$name" >> "$STAGE/.installed"
  done
  for f in systemd/*.service systemd/*.timer; do
    [ -e "$f" ] || continue
    local dir="$PREFIX/lib/systemd/system" tmp
    is_user_unit "$f" && dir="$PREFIX/lib/systemd/user"
    tmp="$(mktemp)"; with_prefix "$f" > "$tmp"
    put 0644 "$tmp" "$dir/$(basename "$f")"; rm -f "$tmp"
  done
  if [ -d etc/kubernetes ]; then
    for f in etc/kubernetes/*; do [ -f "$f" ] && put 0644 "$f" "$SHARE/kubernetes/$(basename "$f")"; done
  fi
  put 0644 README.md "$PREFIX/share/doc/podsec-fim/README.md"
  install_conf etc/agent.example.json "$SYSCONFDIR/podsec/fim/agent.json" 0644
  for f in crontabs/*; do [ -f "$f" ] && install_conf "$f" "$SYSCONFDIR/podsec/crontabs/$(basename "$f")" 0644; done
  remove_stale
  # Swap the package directory in one rename, so a node never runs half of two versions.
  rm -rf "$D$LIB.old"
  [ -d "$D$LIB" ] && mv "$D$LIB" "$D$LIB.old"
  mv "$STAGE" "$D$LIB"
  rm -rf "$D$LIB.old"
  root_crontab install
  note "installed $(node -p 'require("./package.json").version') under $D$PREFIX"
  [ -n "$D" ] || note "next: systemctl --user -M u7s-admin@ daemon-reload && systemctl --user -M u7s-admin@ enable --now podsec-fim-agent.service"
}

do_uninstall () {
  [ -f "$D$MANIFEST" ] || { note "nothing to uninstall: no $D$MANIFEST"; exit 0; }
  [ -f "$D$SYSCONFDIR/podsec/crontabs/podsec-fim" ] && root_crontab remove
  local kind path
  while read -r kind path; do
    case "$kind" in
      file) rm -f "$D$path"; prune_dirs "$(dirname "$D$path")" "$D$PREFIX" ;;
      conf)
        rm -f "$D$path.new"
        if [ -e "$D$path" ] && ! cmp -s "$D$path" "$D$PRISTINE$path"; then
          note "kept your edited $path"
        else
          rm -f "$D$path"
        fi
        prune_dirs "$(dirname "$D$path")" "$D$SYSCONFDIR/podsec" ;;
    esac
  done < "$D$MANIFEST"
  rm -rf "$D$LIB" "$D$SHARE"
  prune_dirs "$D$PREFIX/lib" "$D$PREFIX"
  prune_dirs "$D$PREFIX/share" "$D$PREFIX"
  note "uninstalled from $D$PREFIX (the state database and edited configuration are kept)"
}

case "$ACTION" in
  install) do_install ;;
  uninstall) do_uninstall ;;
  *) echo "usage: .ci/install.sh install|uninstall   (DESTDIR, PREFIX=/usr, SYSCONFDIR=/etc)" >&2; exit 64 ;;
esac
