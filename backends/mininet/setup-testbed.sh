#!/usr/bin/env bash
# Turns a fresh Debian 12 machine (run as root) into a migsim emulation testbed:
#   Mininet (Linux-bridge switches, HTB links), Docker in experimental mode with a CRIU proven by a real
#   dump and restore on this kernel, a tiny local busybox image for workloads, and an sshd on loopback that
#   the SSH backend talks to.
# Idempotent: a second run only checks and changes nothing. The last line printed is the
# testbed address (ssh://root@127.0.0.1:PORT). Files for clients are in $STATE (see docs/testbed.md).
# Environment: MIGSIM_SSH_PORT (default 2290), MIGSIM_TESTBED_STATE (default /var/lib/migsim-testbed),
#   MIGSIM_CRIU_SMOKE_TIMEOUT (seconds a CRIU step of the smoke test may take, default 20).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

STATE=${MIGSIM_TESTBED_STATE:-/var/lib/migsim-testbed}
PORT=${MIGSIM_SSH_PORT:-2290}
# the image the driver's plan defaults to (its JSON Schema, made from src/formats/driver.ts)
IMAGE=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["properties"]["options"]["properties"]["image"]["default"])' \
  "$HERE/driver/schemas/plan.schema.json")
LOG_DIR=/var/log/migsim-testbed
APT=(apt-get -o DPkg::Lock::Timeout=900 -y --no-install-recommends)

log() { printf '[setup-testbed] %s\n' "$*" >&2; }
die() { printf '[setup-testbed] ERROR: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (Mininet, Docker and CRIU need it)"
[ -r /etc/os-release ] && . /etc/os-release
case "${ID:-}" in debian|ubuntu) ;; *) log "warning: tested on Debian 12 only (this is ${ID:-unknown})";; esac
mkdir -p "$STATE" "$LOG_DIR"
chmod 700 "$STATE"

# Packages: each is checked first, so a second run neither updates lists nor installs anything.
PACKAGES=(mininet bridge-utils iperf3 docker.io openssh-server openssh-client busybox-static python3 python3-jsonschema
  iproute2 procps iptables ethtool util-linux ca-certificates xz-utils runc gcc libc6-dev)
CRIU_BUILD_DEPS=(build-essential pkg-config dpkg-dev libprotobuf-c-dev protobuf-c-compiler protobuf-compiler
  libprotobuf-dev libnl-3-dev libnet1-dev libcap-dev python3-protobuf libbsd-dev libgnutls28-dev
  libnftables-dev libaio-dev uuid-dev libdrm-dev)

missing_packages() {
  local p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || printf '%s\n' "$p"
  done
}

APT_UPDATED=0
apt_install() {
  local missing
  mapfile -t missing < <(missing_packages "$@")
  [ "${#missing[@]}" -eq 0 ] && return 0
  if [ "$APT_UPDATED" = 0 ]; then
    log "apt-get update"
    apt-get -o DPkg::Lock::Timeout=900 update -qq >"$LOG_DIR/apt-update.log" 2>&1 || die "apt-get update failed (see $LOG_DIR/apt-update.log)"
    APT_UPDATED=1
  fi
  log "installing: ${missing[*]}"
  # Debian's policy-rc.d (exit 101) keeps packages from starting daemons at install time;
  # this script starts them itself, with its own configuration.
  DEBIAN_FRONTEND=noninteractive "${APT[@]}" install "${missing[@]}" >"$LOG_DIR/apt-install.log" 2>&1 \
    || die "apt-get install failed (see $LOG_DIR/apt-install.log)"
}

apt_install "${PACKAGES[@]}"

# ---------------------------------------------------------------- Docker
docker_up() { docker info >/dev/null 2>&1; }
if docker_up; then
  [ "$(docker info --format '{{.ExperimentalBuild}}' 2>/dev/null)" = true ] \
    || die "a dockerd is running without --experimental (checkpoints need it); stop it and run this script again"
else
  log "starting dockerd --experimental (log: $LOG_DIR/dockerd.log)"
  setsid dockerd --experimental >>"$LOG_DIR/dockerd.log" 2>&1 </dev/null &
  echo $! >"$STATE/dockerd.pid"
  for _ in $(seq 1 120); do
    docker_up && break
    kill -0 "$(cat "$STATE/dockerd.pid")" 2>/dev/null || die "dockerd exited (see $LOG_DIR/dockerd.log)"
    sleep 0.5
  done
  docker_up || die "dockerd did not answer within 60 s (see $LOG_DIR/dockerd.log)"
fi

# dockerd loads br_netfilter, which sends bridged Mininet traffic through Docker's iptables rules.
for key in net.bridge.bridge-nf-call-iptables net.bridge.bridge-nf-call-arptables net.bridge.bridge-nf-call-ip6tables; do
  f=/proc/sys/${key//.//}
  if [ -e "$f" ] && [ "$(cat "$f")" != 0 ]; then echo 0 >"$f"; fi
done

# ---------------------------------------------------------------- workload image
if ! docker image inspect "$IMAGE" >/dev/null 2>&1; then
  log "building image $IMAGE from busybox-static"
  root=$(mktemp -d)
  mkdir -p "$root/bin" "$root/tmp" "$root/proc" "$root/sys" "$root/dev" "$root/etc"
  install -m 755 /bin/busybox "$root/bin/busybox"
  for applet in $(/bin/busybox --list); do
    [ "$applet" = busybox ] || ln -s busybox "$root/bin/$applet"
  done
  # the live-migration workload (pre-copy/post-copy): a static C program, so the image stays busybox only
  gcc -static -O2 -o "$root/bin/migsim-dirty" "$HERE/workload/migsim-dirty.c" || die "cannot compile $HERE/workload/migsim-dirty.c"
  tar -C "$root" -c . | docker import -c 'ENV PATH=/bin' - "$IMAGE" >/dev/null
  rm -rf "$root"
fi

# ---------------------------------------------------------------- CRIU
# A CRIU is chosen by what it does on this kernel, not by `criu check` (CRIU 4.1.1 passes the check
# on kernel 6.18.44, then hangs in every dump): a candidate must dump and restore a plain process
# (driver/criu_smoke.py plain), then checkpoint and restore the workload image through Docker
# (criu_smoke.py docker, once dockerd runs). Candidates, in order: the installed one, Debian's
# package, then the CRIU versions whose source Debian offers (unstable, then testing), newest
# first. Builds are cached by version; the chosen binary is installed under /usr/local/lib/migsim
# behind a small /usr/sbin/criu wrapper (dockerd's runc runs `criu` from PATH).
SMOKE=(/usr/bin/python3 "$HERE/driver/criu_smoke.py")
CRIU_LIB=/usr/local/lib/migsim
CRIU_WRAPPER_MARK="# migsim criu wrapper"
CRIU_SMOKE_TIMEOUT=${MIGSIM_CRIU_SMOKE_TIMEOUT:-20}
HANG_FLAG=/run/migsim-testbed/criu-hang-until
CRIU_TRIED=()

criu_version_of() { "$1" --version 2>/dev/null | awk '/^Version:/ {print $2; exit}'; }

already_tried() {
  local t
  for t in "${CRIU_TRIED[@]}"; do case "$t" in "criu $1 "*) return 0;; esac; done
  return 1
}

record_failure() {
  # $1 version, $2 the smoke test's JSON line
  local why
  why=$(printf '%s' "$2" | /usr/bin/python3 -c 'import json, sys
try:
    r = json.loads(sys.stdin.read())
    tail = " / ".join(r.get("log_tail") or [])
    print("%s: %s%s" % (r.get("stage", "?"), r.get("reason", "?"), (" | last log lines: " + tail) if tail else ""))
except ValueError:
    print("no result (see the smoke log)")')
  CRIU_TRIED+=("criu $1 [$why]")
  log "criu $1 FAILS the smoke test on kernel $(uname -r): $why"
}

smoke() {
  # $1 stage, $2 version, then the stage's options; the whole test is bounded too
  local stage=$1 version=$2 out
  shift 2
  if out=$(timeout -k 5 $((CRIU_SMOKE_TIMEOUT * 4)) "${SMOKE[@]}" "$stage" --timeout "$CRIU_SMOKE_TIMEOUT" "$@" \
      2>>"$LOG_DIR/criu-smoke.log"); then
    log "criu $version passes the $stage smoke test ($(printf '%s' "$out" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["reason"])'))"
    return 0
  fi
  record_failure "$version" "$out"
  return 1
}

install_criu_binary() {
  # $1 binary, $2 version: a private copy behind the wrapper, so a cleared cache cannot break Docker.
  local bin=$1 version=$2
  mkdir -p "$CRIU_LIB"
  if ! cmp -s "$bin" "$CRIU_LIB/criu-$version"; then
    install -m 755 "$bin" "$CRIU_LIB/criu-$version.new" && mv "$CRIU_LIB/criu-$version.new" "$CRIU_LIB/criu-$version"
  fi
  if dpkg-query -W -f='${Status}' criu 2>/dev/null | grep -q 'install ok installed' \
     && ! dpkg-divert --list /usr/sbin/criu | grep -q .; then
    # Debian's packaged binary is kept (as /usr/sbin/criu.distrib), not deleted.
    dpkg-divert --local --rename --divert /usr/sbin/criu.distrib --add /usr/sbin/criu >/dev/null
  fi
  {
    printf '#!/bin/sh\n'
    printf '%s: CRIU %s, chosen by setup-testbed.sh'"'"'s smoke test on kernel %s.\n' "$CRIU_WRAPPER_MARK" "$version" "$(uname -r)"
    printf '# Fault injection for the testbed'"'"'s hang test only: while %s holds a time (epoch\n' "$HANG_FLAG"
    printf '# seconds) in the future, CRIU blocks here as a hung dump does. Nothing else writes that file.\n'
    printf 'if [ -s %s ] && [ "$(date +%%s)" -lt "$(cat %s 2>/dev/null || echo 0)" ]; then\n' "$HANG_FLAG" "$HANG_FLAG"
    printf '  while :; do sleep 1; done\nfi\n'
    printf 'exec %s "$@"\n' "$CRIU_LIB/criu-$version"
  } >/usr/sbin/criu.new
  chmod 755 /usr/sbin/criu.new
  mv /usr/sbin/criu.new /usr/sbin/criu
}

installed_criu() {
  # the binary behind our wrapper, or whatever /usr/sbin/criu is
  if grep -qs "$CRIU_WRAPPER_MARK" /usr/sbin/criu; then
    awk '$1 == "exec" {print $2; exit}' /usr/sbin/criu
  elif [ -x /usr/sbin/criu ]; then
    echo /usr/sbin/criu
  fi
}

packaged_criu() {
  apt_install criu >&2 || return 1
  if [ -x /usr/sbin/criu.distrib ]; then echo /usr/sbin/criu.distrib; else echo /usr/sbin/criu; fi
}

mirror_uri() {
  # The machine's own Debian mirror (deb822 or one-line format), so the source comes from the same place.
  local uri=""
  if compgen -G '/etc/apt/sources.list.d/*.sources' >/dev/null; then
    uri=$(awk '/^URIs:/ {for (i = 2; i <= NF; i++) if ($i !~ /security/) {print $i; exit}}' /etc/apt/sources.list.d/*.sources)
  fi
  if [ -z "$uri" ]; then
    uri=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
      | awk '$1 == "deb" && $0 !~ /security/ {for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) {print $i; exit}}')
  fi
  printf '%s\n' "${uri:-http://deb.debian.org/debian}"
}

# Private source lists (unstable and testing) beside the machine's own, which stay untouched.
SRC_WORK=/var/cache/migsim/criu-build
SRC_OPTS=(-o "Dir::Etc::SourceList=$SRC_WORK/sources.list" -o "Dir::Etc::SourceParts=-"
  -o "Dir::State::Lists=$SRC_WORK/lists" -o DPkg::Lock::Timeout=900)
source_versions() {
  # Debian versions (e.g. 4.2.1-1) of the CRIU sources Debian offers, newest first
  local mirror
  mkdir -p "$SRC_WORK/lists/partial"
  mirror=$(mirror_uri)
  printf 'deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s %s main\n' \
    "$mirror" sid "$mirror" trixie >"$SRC_WORK/sources.list"
  timeout 120 apt-get "${SRC_OPTS[@]}" update -qq >"$LOG_DIR/criu-source.log" 2>&1 \
    || { log "could not read Debian's source lists (see $LOG_DIR/criu-source.log)"; return 0; }
  apt-cache "${SRC_OPTS[@]}" showsrc criu 2>/dev/null | awk '/^Version:/ {print $2}' | sort -u -V -r
}

upstream_version() { printf '%s\n' "$1" | sed -E 's/^[0-9]+://; s/-[^-]*$//'; }

# build_criu DEBIAN_VERSION: sets BUILT_CRIU to the cached binary (not run in a subshell, so that
# what it records in CRIU_TRIED stays).
BUILT_CRIU=""
build_criu() {
  local debver=$1 version cache tarball
  version=$(upstream_version "$debver")
  cache=/var/cache/migsim/criu-$version
  if [ -x "$cache/criu" ]; then BUILT_CRIU=$cache/criu; return 0; fi
  apt_install "${CRIU_BUILD_DEPS[@]}" >&2
  mkdir -p "$SRC_WORK"
  tarball="criu_$version.orig.tar.xz"
  if [ ! -s "$SRC_WORK/$tarball" ]; then
    log "fetching criu $version source from Debian"
    # The .dsc and debian tarball may answer 404; the orig tarball alone is enough.
    (cd "$SRC_WORK" && timeout 300 apt-get "${SRC_OPTS[@]}" source --download-only "criu=$debver") \
      >>"$LOG_DIR/criu-source.log" 2>&1 || true
    if [ ! -s "$SRC_WORK/$tarball" ]; then
      log "could not download $tarball (see $LOG_DIR/criu-source.log)"
      CRIU_TRIED+=("criu $version [source: $tarball not downloadable]")
      return 1
    fi
  fi
  rm -rf "${SRC_WORK:?}/criu-$version"
  tar -C "$SRC_WORK" -xf "$SRC_WORK/$tarball"
  log "building criu $version (make -j2 criu, 2-4 minutes; log: $LOG_DIR/criu-build-$version.log)"
  if ! make -C "$SRC_WORK/criu-$version" -j2 criu >"$LOG_DIR/criu-build-$version.log" 2>&1; then
    log "criu $version does not build here (see $LOG_DIR/criu-build-$version.log)"
    CRIU_TRIED+=("criu $version [build failed: $(tail -n 1 "$LOG_DIR/criu-build-$version.log")]")
    rm -rf "${SRC_WORK:?}/criu-$version"
    return 1
  fi
  mkdir -p "$cache"
  install -m 755 "$SRC_WORK/criu-$version/criu/criu" "$cache/criu.new" && mv "$cache/criu.new" "$cache/criu"
  rm -rf "${SRC_WORK:?}/criu-$version"
  BUILT_CRIU=$cache/criu
}

# Both stages: the plain one on the candidate binary, then (installed, so runc runs it) Docker's.
CRIU_CHOSEN=""
try_criu() {
  local bin=$1 version
  [ -n "$bin" ] && [ -x "$bin" ] || return 1
  version=$(criu_version_of "$bin")
  version=${version:-unknown}
  already_tried "$version" && return 1
  smoke plain "$version" --criu "$bin" || return 1
  install_criu_binary "$bin" "$version"
  smoke docker "$version" --image "$IMAGE" || return 1
  CRIU_CHOSEN=$version
}

choose_criu() {
  local v
  try_criu "$(installed_criu)" && return 0
  try_criu "$(packaged_criu)" && return 0
  for v in $(source_versions); do
    already_tried "$(upstream_version "$v")" && continue
    build_criu "$v" || continue
    try_criu "$BUILT_CRIU" && return 0
  done
  return 1
}

criu_give_up() {
  local IFS=';'
  die "no CRIU works on kernel $(uname -r): tried ${CRIU_TRIED[*]:-nothing (no candidate found)}"
}

rm -f "$HANG_FLAG"
choose_criu || criu_give_up
log "chosen: criu $CRIU_CHOSEN on kernel $(uname -r)${CRIU_TRIED[*]:+ (refused before it: ${CRIU_TRIED[*]})}"
# What the driver's preflight checks: the installed CRIU was proven on this very kernel.
printf '{"version": "%s", "kernel": "%s", "date": "%s"}\n' "$CRIU_CHOSEN" "$(uname -r)" "$(date -u +%FT%TZ)" \
  >"$STATE/criu-proven.json"

# ---------------------------------------------------------------- sshd on loopback
[ -s "$STATE/ssh_host_ed25519_key" ] || ssh-keygen -q -t ed25519 -N '' -C migsim-testbed-host -f "$STATE/ssh_host_ed25519_key"
[ -s "$STATE/client_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C migsim-client -f "$STATE/client_ed25519"
if ! cmp -s "$STATE/client_ed25519.pub" "$STATE/authorized_keys"; then
  install -m 600 "$STATE/client_ed25519.pub" "$STATE/authorized_keys"
fi
config="$STATE/sshd_config"
want_config=$(cat <<EOF
# migsim testbed sshd: loopback only, key authentication only (written by setup-testbed.sh)
ListenAddress 127.0.0.1
Port $PORT
HostKey $STATE/ssh_host_ed25519_key
PidFile $STATE/sshd.pid
AuthorizedKeysFile $STATE/authorized_keys
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
Subsystem sftp internal-sftp
MaxStartups 30:30:100
EOF
)
restart_sshd=0
if [ "$(cat "$config" 2>/dev/null)" != "$want_config" ]; then
  printf '%s\n' "$want_config" >"$config"
  restart_sshd=1
fi
mkdir -p /run/sshd
/usr/sbin/sshd -t -f "$config" || die "sshd rejects $config"
sshd_running() {
  # the pid must still be an sshd: a pid file that survived a reboot may name another process
  [ -s "$STATE/sshd.pid" ] && kill -0 "$(cat "$STATE/sshd.pid")" 2>/dev/null \
    && [ "$(cat "/proc/$(cat "$STATE/sshd.pid")/comm" 2>/dev/null)" = sshd ]
}
if sshd_running && [ "$restart_sshd" = 1 ]; then
  kill "$(cat "$STATE/sshd.pid")"
  for _ in $(seq 1 20); do sshd_running || break; sleep 0.1; done
fi
if ! sshd_running; then
  log "starting sshd on 127.0.0.1:$PORT"
  /usr/sbin/sshd -f "$config" -E "$LOG_DIR/sshd.log" || die "sshd did not start (see $LOG_DIR/sshd.log)"
  for _ in $(seq 1 20); do sshd_running && break; sleep 0.1; done
  sshd_running || die "sshd did not write its pid file (see $LOG_DIR/sshd.log)"
fi

# Client-side files: pinned host key (known_hosts line and SHA256 fingerprint) and the address.
hostkey=$(cut -d' ' -f1,2 "$STATE/ssh_host_ed25519_key.pub")
want_known="[127.0.0.1]:$PORT $hostkey"
[ "$(cat "$STATE/known_hosts" 2>/dev/null)" = "$want_known" ] || printf '%s\n' "$want_known" >"$STATE/known_hosts"
fingerprint=$(ssh-keygen -l -E sha256 -f "$STATE/ssh_host_ed25519_key.pub" | awk '{print $2}')
[ "$(cat "$STATE/host_fingerprint" 2>/dev/null)" = "$fingerprint" ] || printf '%s\n' "$fingerprint" >"$STATE/host_fingerprint"
address="ssh://root@127.0.0.1:$PORT"
[ "$(cat "$STATE/address" 2>/dev/null)" = "$address" ] || printf '%s\n' "$address" >"$STATE/address"

log "ready: key $STATE/client_ed25519, known_hosts $STATE/known_hosts, fingerprint $fingerprint"
printf '%s\n' "$address"
