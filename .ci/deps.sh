#!/usr/bin/env bash
# Installs what podsec-fim and its tests need on a fresh Debian machine, and fails loudly when it
# cannot: AIDE from Debian (binary only, no cron job, timer or MTA), openssl for test certificates,
# promtool (Debian package prometheus) to check our metrics exposition, a local-only MTA (exim4,
# delivering to /var/mail) and crontab(1) for the mail and cron tests, setfacl and setfattr (acl,
# attr) for the differential tests, then the npm packages
# (better-sqlite3 compiles against the local node headers).
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v aide >/dev/null || need_apt+=(aide)
command -v openssl >/dev/null || need_apt+=(openssl)
command -v promtool >/dev/null || need_apt+=(prometheus)
command -v make >/dev/null && command -v g++ >/dev/null && command -v python3 >/dev/null || need_apt+=(build-essential python3)
# The mail tests send through the real /usr/sbin/sendmail and a real SMTP server (exim itself on
# a loopback port). Preseeded "local delivery only", so the machine never relays mail anywhere.
[ -x /usr/sbin/exim4 ] && [ -x /usr/sbin/sendmail ] || need_apt+=(exim4-daemon-light)
command -v crontab >/dev/null || need_apt+=(cron)
# setfacl and setfattr: the differential tests change ACLs and xattrs under AIDE's acl/xattrs rules.
command -v setfacl >/dev/null || need_apt+=(acl)
command -v setfattr >/dev/null || need_apt+=(attr)
if ((${#need_apt[@]})); then
  if [ "$(id -u)" != 0 ]; then
    echo "podsec-fim: missing ${need_apt[*]}; install them as root: apt-get install --no-install-recommends ${need_apt[*]}" >&2
    exit 1
  fi
  echo "deps: installing ${need_apt[*]} from Debian" >&2
  echo 'exim4-config exim4/dc_eximconfig_configtype select local delivery only; not on a network' | debconf-set-selections
  echo 'exim4-config exim4/dc_local_interfaces string 127.0.0.1 ; ::1' | debconf-set-selections
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_apt[@]}"
  # We want promtool only; the package also enables a Prometheus server on :9090 where systemd runs.
  if [[ " ${need_apt[*]} " == *" prometheus "* ]] && [ -d /run/systemd/system ]; then
    systemctl disable --now prometheus.service >&2 || true
  fi
fi
aide --version 2>&1 | head -1 >&2

# The mail tests read /var/mail/pfim-mail; exim delivers to a local user only (Debian's exim never
# delivers to root without an alias) and changes to the user's home first, so it needs one.
mail_user=pfim-mail
if ! id -u "$mail_user" >/dev/null 2>&1; then
  if [ "$(id -u)" != 0 ]; then
    echo "podsec-fim: the mail tests need the local user $mail_user; create it as root: useradd --system --create-home --home-dir /var/lib/$mail_user --shell /usr/sbin/nologin $mail_user" >&2
    exit 1
  fi
  useradd --system --create-home --home-dir "/var/lib/$mail_user" --shell /usr/sbin/nologin --comment 'podsec-fim mail tests' "$mail_user"
fi
for tool in /usr/sbin/sendmail /usr/sbin/exim4 "$(command -v crontab || echo crontab)"; do
  [ -x "$tool" ] || { echo "podsec-fim: $tool is missing after installation (mail and cron tests need it)" >&2; exit 1; }
done
/usr/sbin/exim4 -bV 2>&1 | head -1 >&2

node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then
  echo "podsec-fim: Node.js >= 20 is required, found $(node --version)" >&2
  exit 1
fi
# node-gyp needs node's headers; on Debian-style installs they sit under the node prefix.
export npm_config_nodedir="${npm_config_nodedir:-$(node -p 'require("path").resolve(process.execPath, "..", "..")')}"
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
