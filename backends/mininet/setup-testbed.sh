#!/usr/bin/env bash
# Turns a fresh Debian 12 machine (run as root) into a migsim emulation testbed:
#   Mininet (Linux-bridge switches, HTB links), Docker in experimental mode with a CRIU that
#   passes `criu check`, a tiny local busybox image for workloads, and an sshd on loopback that
#   the SSH backend talks to.
# Idempotent: a second run only checks and changes nothing. The last line printed is the
# testbed address (ssh://root@127.0.0.1:PORT). Files for clients are in $STATE (see docs/testbed.md).
# Environment: MIGSIM_SSH_PORT (default 2290), MIGSIM_TESTBED_STATE (default /var/lib/migsim-testbed),
#   MIGSIM_CRIU_CACHE (default /var/cache/migsim/criu-4.1.1).
set -euo pipefail

STATE=${MIGSIM_TESTBED_STATE:-/var/lib/migsim-testbed}
PORT=${MIGSIM_SSH_PORT:-2290}
CRIU_VERSION=4.1.1
CRIU_CACHE=${MIGSIM_CRIU_CACHE:-/var/cache/migsim/criu-$CRIU_VERSION}
IMAGE=migsim-busybox:1
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
PACKAGES=(mininet bridge-utils iperf3 docker.io openssh-server openssh-client busybox-static python3
  iproute2 procps iptables ethtool util-linux ca-certificates xz-utils)
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

# ---------------------------------------------------------------- CRIU
criu_ok() { [ -x "$1" ] && "$1" check >/dev/null 2>&1; }

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

build_criu() {
  local work=/var/cache/migsim/criu-build src_list lists mirror tarball
  apt_install "${CRIU_BUILD_DEPS[@]}"
  mkdir -p "$work" && cd "$work"
  tarball="criu_$CRIU_VERSION.orig.tar.xz"
  if [ ! -s "$tarball" ]; then
    mirror=$(mirror_uri)
    # A private sources list: the machine's own apt configuration is left untouched.
    src_list="$work/trixie-src.list"
    lists="$work/lists"
    mkdir -p "$lists/partial"
    printf 'deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s trixie main\n' "$mirror" >"$src_list"
    local opts=(-o "Dir::Etc::SourceList=$src_list" -o "Dir::Etc::SourceParts=-" -o "Dir::State::Lists=$lists"
      -o DPkg::Lock::Timeout=900)
    log "fetching criu $CRIU_VERSION source from $mirror (trixie)"
    apt-get "${opts[@]}" update -qq >"$LOG_DIR/criu-source.log" 2>&1 || die "apt-get update for trixie sources failed (see $LOG_DIR/criu-source.log)"
    # The .dsc and debian tarball may answer 404 on some mirrors; the orig tarball alone is enough.
    apt-get "${opts[@]}" source --download-only "criu=$CRIU_VERSION*" >>"$LOG_DIR/criu-source.log" 2>&1 \
      || apt-get "${opts[@]}" source --download-only criu >>"$LOG_DIR/criu-source.log" 2>&1 || true
    [ -s "$tarball" ] || die "could not download $tarball (see $LOG_DIR/criu-source.log)"
  fi
  rm -rf "criu-$CRIU_VERSION"
  tar -xf "$tarball"
  log "building criu $CRIU_VERSION (make -j2 criu, 1-2 minutes; log: $LOG_DIR/criu-build.log)"
  make -C "criu-$CRIU_VERSION" -j2 criu >"$LOG_DIR/criu-build.log" 2>&1 || die "criu build failed (see $LOG_DIR/criu-build.log)"
  mkdir -p "$CRIU_CACHE"
  install -m 755 "criu-$CRIU_VERSION/criu/criu" "$CRIU_CACHE/criu.new"
  mv "$CRIU_CACHE/criu.new" "$CRIU_CACHE/criu"
  rm -rf "criu-$CRIU_VERSION"
  cd /
}

install_criu() {
  # dockerd's runc looks for `criu` on PATH; /usr/sbin/criu is where Debian puts it. A packaged
  # binary that fails the check is diverted (kept as /usr/sbin/criu.distrib), not deleted.
  if dpkg-query -W -f='${Status}' criu 2>/dev/null | grep -q 'install ok installed' \
     && ! dpkg-divert --list /usr/sbin/criu | grep -q .; then
    dpkg-divert --local --rename --divert /usr/sbin/criu.distrib --add /usr/sbin/criu >/dev/null
  fi
  install -m 755 "$CRIU_CACHE/criu" /usr/sbin/criu.new
  mv /usr/sbin/criu.new /usr/sbin/criu
}

if ! criu_ok /usr/sbin/criu; then
  # Try Debian's own package first: on kernels it supports, nothing needs building.
  apt_install criu
  if criu_ok /usr/sbin/criu; then
    log "packaged criu passes 'criu check'"
  else
    if criu_ok "$CRIU_CACHE/criu"; then
      log "packaged criu fails 'criu check'; using the cached build $CRIU_CACHE/criu"
    else
      log "packaged criu fails 'criu check' on this kernel: building $CRIU_VERSION from Debian's source"
      build_criu
      criu_ok "$CRIU_CACHE/criu" || die "built criu fails 'criu check': $("$CRIU_CACHE/criu" check 2>&1 | tail -1)"
    fi
    install_criu
  fi
fi

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
  tar -C "$root" -c . | docker import -c 'ENV PATH=/bin' - "$IMAGE" >/dev/null
  rm -rf "$root"
fi

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
