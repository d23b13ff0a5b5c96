#!/bin/bash
# run-in-vm.sh - vauth's real-kernel test harness (adapted from the team's
# reference tool; users and CI need nothing outside this repository).
#
# Runs a command inside a throw-away QEMU VM that boots Debian's stock kernel
# (which has uhid, hidraw, vhci-hcd/usbip, dummy_hcd, ...) with the HOST's root
# filesystem as its root (9p, read-only, plus a tmpfs overlay so everything is
# writable and every write is thrown away), except:
#   * the directories in KVM_RW (default: the current directory) are shared
#     read-WRITE, so build outputs / logs written there come back to the host;
#   * /tmp, /run, /dev/shm are fresh tmpfs (host files under /tmp are invisible
#     unless they are inside a KVM_RW directory).
# The command's stdout/stderr are streamed back live (virtio-serial ports), the
# script exits with the command's exit status, and the VM is powered off.
# The kernel, modules, busybox and initramfs are cached in KVM_CACHE: the first
# run downloads ~70 MB and takes ~20 s longer; later runs boot in ~4 s.
#
# usage: run-in-vm.sh 'shell command'            (run by bash -c inside the VM)
#        run-in-vm.sh prog arg1 arg2 ...          (argv, no shell parsing)
#
# environment knobs (all optional):
#   KVM_CACHE=/var/cache/kernel-vm   where the kernel, modules, busybox, initrd are cached
#   KVM_KERNEL_PKG=linux-image-6.1.0-NN-amd64   default: what linux-image-amd64 depends on
#   KVM_MEM=1G   KVM_SMP=2   KVM_TIMEOUT=900 (seconds, whole VM)  KVM_CPU=max
#   KVM_ACCEL='tcg,thread=multi'  (auto: kvm if a probe boot under /dev/kvm prints the kernel banner)
#   KVM_RW="dir1:dir2"  read-write shares (default: $PWD unless it is /); KVM_RW=none for none
#   KVM_ENV="VAR1 VAR2"  extra host variables to pass in (PATH HOME TERM LANG always are)
#   KVM_VERBOSE=1   stream the kernel console to stderr as well
#   KVM_KEEP=1      keep the per-run directory (console.log etc.) and print its path
#   KVM_APPEND='...' extra kernel command line
#   KVM_MODULES="uhid vhci-hcd"  modules to modprobe before the command starts
#   KVM_PKGS="usbip fido2-tools python3-fido2"  Debian packages to apt-get install on the
#                   HOST first if missing (the VM sees the host's files)
#   KVM_UEVENT=0    don't run the MODALIAS auto-loader (busybox uevent + modprobe)
#   KVM_MACHINE=q35 (default) | pc | microvm (faster firmware, but hangs at boot under
#                   host load: no HPET/PM timer to calibrate the TSC against)
#   KVM_BOOT=vmlinux (default: uncompressed, PVH entry) | vmlinuz (+~2-3 s under TCG)
# exit status: the command's; 77 = skipped (not root: CTest's SKIP_RETURN_CODE);
# 124 = VM timed out; 125 = VM failed before/while running the command (console
# log is printed to stderr); 130 = this script was interrupted (SIGINT/SIGTERM/
# SIGHUP: the VM is stopped).
set -euo pipefail

CACHE=${KVM_CACHE:-/var/cache/kernel-vm}
MEM=${KVM_MEM:-1G}
SMP=${KVM_SMP:-2}
TIMEOUT=${KVM_TIMEOUT:-900}
CPU=${KVM_CPU:-max}
INIT_VERSION=11   # bump to force the initramfs to be rebuilt

log() { echo "run-in-vm: $*" >&2; }
die() { log "ERROR: $*"; exit 125; }

[ $# -ge 1 ] || { sed -n '2,/^set -euo/p' "$0" | grep '^#' >&2; exit 2; }
# root is needed for apt-get and for 9p passthrough of /; without it the test is
# skipped rather than failed, so `ctest` works for unprivileged developers.
[ "$(id -u)" = 0 ] || { log "SKIP: must run as root (apt-get, 9p passthrough of /)"; exit 77; }

# ---------------------------------------------------------------- host tools
need_pkgs=()
command -v qemu-system-x86_64 >/dev/null || need_pkgs+=(qemu-system-x86)
command -v cpio >/dev/null || need_pkgs+=(cpio)
command -v depmod >/dev/null || [ -x /sbin/depmod ] || need_pkgs+=(kmod)
command -v xz >/dev/null || need_pkgs+=(xz-utils)
for p in ${KVM_PKGS:-}; do   # extra Debian packages the command needs (e.g. "usbip fido2-tools")
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need_pkgs+=("$p")
done
if [ ${#need_pkgs[@]} -gt 0 ]; then
  log "installing ${need_pkgs[*]} ..."
  if ! apt-cache policy qemu-system-x86 2>/dev/null | grep -q Candidate; then
    timeout 300 apt-get update >&2 || true
  fi
  DEBIAN_FRONTEND=noninteractive timeout 900 apt-get -o DPkg::Lock::Timeout=600 \
    install -y --no-install-recommends "${need_pkgs[@]}" >&2 || die "apt-get install failed"
fi
export PATH=$PATH:/usr/sbin:/sbin

# ------------------------------------------------- kernel + modules + busybox
mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
flock -w 900 9 || die "cannot lock $CACHE/.lock"

if [ -z "${KVM_KERNEL_PKG:-}" ]; then
  if [ -f "$CACHE/default-kernel-pkg" ]; then
    KVM_KERNEL_PKG=$(cat "$CACHE/default-kernel-pkg")
  else
    KVM_KERNEL_PKG=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-/{print $2; exit}')
    if [ -z "$KVM_KERNEL_PKG" ]; then
      timeout 300 apt-get update >&2 || true
      KVM_KERNEL_PKG=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-/{print $2; exit}')
    fi
    [ -n "$KVM_KERNEL_PKG" ] || die "cannot resolve linux-image-amd64"
    echo "$KVM_KERNEL_PKG" > "$CACHE/default-kernel-pkg"
  fi
fi
KVER=${KVM_KERNEL_PKG#linux-image-}
KDIR=$CACHE/$KVER            # vmlinuz, config, lib/modules/$KVER, initrd.cpio

fetch_deb() { # pkg destdir : apt-get download + dpkg-deb -x
  local pkg=$1 dest=$2 tmp
  tmp=$(mktemp -d "$CACHE/.dl.XXXXXX"); chown _apt "$tmp" 2>/dev/null || true
  ( cd "$tmp" && timeout 600 apt-get download "$pkg" >&2 ) || {
    timeout 300 apt-get update >&2 || true
    ( cd "$tmp" && timeout 600 apt-get download "$pkg" >&2 ) || { rm -rf "$tmp"; die "apt-get download $pkg failed"; }
  }
  mkdir -p "$tmp/x"
  dpkg-deb -x "$tmp"/*.deb "$tmp/x"
  ls "$tmp"/*.deb | xargs -n1 basename > "$tmp/x/.deb-name"
  rm -f "$tmp"/*.deb
  rm -rf "$dest"; mv "$tmp/x" "$dest"; rm -rf "$tmp"
}

if [ ! -f "$KDIR/.ok" ]; then
  log "fetching $KVM_KERNEL_PKG into $KDIR (one-time, ~70 MB) ..."
  fetch_deb "$KVM_KERNEL_PKG" "$KDIR.new"
  depmod -b "$KDIR.new" "$KVER"
  mv "$KDIR.new/boot/vmlinuz-$KVER" "$KDIR.new/vmlinuz"
  mv "$KDIR.new/boot/config-$KVER" "$KDIR.new/config"
  rm -rf "$KDIR" && mv "$KDIR.new" "$KDIR" && touch "$KDIR/.ok"
fi
# An uncompressed vmlinux boots via PVH (qemu reads its ELF note) and skips the
# in-guest xz decompression, which costs ~2 s under TCG.
if [ ! -f "$KDIR/vmlinux" ]; then
  off=$(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$KDIR/vmlinuz" | head -1 | cut -d: -f1 || true)
  if [ -n "$off" ]; then
    tail -c +$((off + 1)) "$KDIR/vmlinuz" | xz -dc 2>/dev/null > "$KDIR/vmlinux.tmp" || true
    if [ "$(head -c 4 "$KDIR/vmlinux.tmp" | od -An -tx1 | tr -d ' ')" = 7f454c46 ]; then
      mv "$KDIR/vmlinux.tmp" "$KDIR/vmlinux"
    fi
  fi
  rm -f "$KDIR/vmlinux.tmp"
fi
KIMG=$KDIR/${KVM_BOOT:-vmlinux}
[ -f "$KIMG" ] || KIMG=$KDIR/vmlinuz
if [ ! -f "$CACHE/busybox/.ok" ]; then
  log "fetching busybox-static into $CACHE/busybox (one-time) ..."
  fetch_deb busybox-static "$CACHE/busybox"
  touch "$CACHE/busybox/.ok"
fi

# ------------------------------------------------------------------ initramfs
# Only what is needed to mount the host root: virtio-pci, 9p, overlay,
# virtio_console.  Everything else is modprobe'd later from /lib/modules,
# which is bind-mounted from $KDIR/lib/modules inside the VM.
INITRD=$KDIR/initrd-v$INIT_VERSION.cpio
if [ ! -f "$INITRD" ]; then
  log "building $INITRD ..."
  st=$(mktemp -d "$CACHE/.initrd.XXXXXX")
  mkdir -p "$st"/{bin,dev,proc,sys,mod,lower,upper,newroot,kvmrun}
  cp "$CACHE/busybox/bin/busybox" "$st/bin/busybox"
  mknod "$st/dev/console" c 5 1
  md=$KDIR/lib/modules/$KVER
  # dependency-ordered module list (modules.dep lists deps of each module; insmod deps first)
  order=()
  add_mod() { # name
    local rel deps d
    rel=$(grep -E "(^|/)$1\.ko:" "$md/modules.dep" | head -1 | cut -d: -f1 || true)
    [ -n "$rel" ] || return 0   # built in
    deps=$(grep -E "^$rel:" "$md/modules.dep" | cut -d: -f2)
    for d in $deps; do add_mod "$(basename "$d" .ko)"; done
    for d in "${order[@]}"; do [ "$d" = "$rel" ] && return 0; done
    order+=("$rel")
  }
  for m in virtio_pci virtio_mmio 9pnet_virtio 9p overlay virtio_console; do add_mod "$m"; done
  : > "$st/mod/order"
  for rel in "${order[@]}"; do cp "$md/$rel" "$st/mod/"; basename "$rel" >> "$st/mod/order"; done
  cat > "$st/init" <<'EOF'
#!/bin/busybox sh
# stage 1 (initramfs): mount host root over 9p + tmpfs overlay, then switch_root
/bin/busybox mkdir -p /sbin /usr/bin /usr/sbin
/bin/busybox --install -s
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc; mount -t sysfs sysfs /sys; mount -t devtmpfs devtmpfs /dev
fail() { echo "kvm-init: FATAL: $*" >/dev/console; sleep 1; poweroff -f; }
for m in $(cat /mod/order); do insmod /mod/$m || echo "kvm-init: insmod $m failed"; done
O9="trans=virtio,version=9p2000.L,msize=262144"
mount -t 9p -o $O9,cache=none kvmrun /kvmrun || fail "mount kvmrun"
. /kvmrun/config
mount -t 9p -o $O9,cache=loose,ro hostroot /lower || fail "mount hostroot"
mount -t tmpfs -o mode=755 upper /upper; mkdir -p /upper/u /upper/w
if ! mount -t overlay -o lowerdir=/lower,upperdir=/upper/u,workdir=/upper/w overlay /newroot; then
  echo "kvm-init: overlay failed, using read-only root + tmpfs dirs" >/dev/console
  mount --bind /lower /newroot
fi
N=/newroot
mount -t tmpfs -o mode=1777 tmpfs $N/tmp
mount -t tmpfs -o mode=755 tmpfs $N/run
mount --move /proc $N/proc; mount --move /sys $N/sys; mount --move /dev $N/dev
mkdir -p $N/dev/pts $N/dev/shm
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts $N/dev/pts
mount -t tmpfs -o mode=1777 tmpfs $N/dev/shm
ln -sf /proc/self/fd $N/dev/fd; ln -sf /proc/self/fd/0 $N/dev/stdin
ln -sf /proc/self/fd/1 $N/dev/stdout; ln -sf /proc/self/fd/2 $N/dev/stderr
# modules: bind the cached tree over /lib/modules/<kver>
mkdir -p $N/lib/modules/$KVM_KVER && mount --bind $N$KVM_KDIR/lib/modules/$KVM_KVER $N/lib/modules/$KVM_KVER
# read-write host directories
i=0
while [ $i -lt "$KVM_RW_N" ]; do
  eval d=\$KVM_RW_$i
  mkdir -p $N$d && mount -t 9p -o $O9,cache=mmap rw$i $N$d || echo "kvm-init: rw share $d failed" >/dev/console
  i=$((i+1))
done
mkdir -p $N$KVM_RUNDIR && mount --move /kvmrun $N$KVM_RUNDIR
# output ports (virtio-serial, raw byte pipes to the host's stdout/stderr)
# (ports are announced asynchronously by the host after the driver loads: wait)
t=0
while [ $t -lt 500 ]; do
  for p in $N/sys/class/virtio-ports/*; do
    [ -e "$p/name" ] || continue
    case "$(cat $p/name)" in
      kvm.stdout) [ -e $N/dev/${p##*/} ] && ln -sf /dev/${p##*/} $N/run/kvm-stdout ;;
      kvm.stderr) [ -e $N/dev/${p##*/} ] && ln -sf /dev/${p##*/} $N/run/kvm-stderr ;;
    esac
  done
  [ -L $N/run/kvm-stdout ] && [ -L $N/run/kvm-stderr ] && break
  usleep 10000; t=$((t+1))
done
[ -L $N/run/kvm-stdout ] || echo "kvm-init: no virtio-serial stdout port" >/dev/console
ip link set lo up 2>/dev/null
hostname kvm 2>/dev/null
mkdir -p $N/run/kvm && cp /bin/busybox $N/run/kvm/busybox
exec switch_root $N /run/kvm/busybox sh $KVM_RUNDIR/stage2
EOF
  chmod +x "$st/init"
  ( cd "$st" && find . | cpio -o -H newc --quiet ) > "$INITRD.tmp"
  mv "$INITRD.tmp" "$INITRD"; rm -rf "$st"
fi
exec 9>&-   # release cache lock

# ------------------------------------------------------------------- per run
RUNDIR=$(mktemp -d /tmp/kvm-run.XXXXXX)
cleanup() { [ -n "${KVM_KEEP:-}" ] && log "kept $RUNDIR" || rm -rf "$RUNDIR"; }
trap cleanup EXIT

if [ $# -eq 1 ]; then printf '%s\n' "$1" > "$RUNDIR/cmd"
else printf '%q ' "$@" > "$RUNDIR/cmd"; echo >> "$RUNDIR/cmd"; fi

{
  for v in PATH HOME TERM LANG LC_ALL KVM_UEVENT KVM_MODULES ${KVM_ENV:-}; do
    [ -n "${!v+x}" ] && printf 'export %s=%q\n' "$v" "${!v}"
  done
  printf 'cd %q 2>/dev/null || cd /\n' "$PWD"
} > "$RUNDIR/env"

MACHINE=${KVM_MACHINE:-q35}
case $MACHINE in microvm*) VT=device ;; *) VT=pci ;; esac   # virtio-mmio vs virtio-pci
RW=${KVM_RW-}
if [ -z "$RW" ]; then [ "$PWD" != / ] && RW=$PWD || RW=none; fi
virtfs=()
n=0
{
  echo "KVM_KVER=$KVER"; echo "KVM_KDIR=$KDIR"; echo "KVM_RUNDIR=$RUNDIR"
  if [ "$RW" != none ]; then
    IFS=: read -ra dirs <<<"$RW"
    for d in "${dirs[@]}"; do
      [ -n "$d" ] || continue
      d=$(cd "$d" && pwd -P) || die "no such dir: $d"
      [ "$d" = / ] && die "refusing to share / read-write"
      echo "KVM_RW_$n=$d"
      virtfs+=(-fsdev "local,id=fsrw$n,path=$d,security_model=none,multidevs=remap"
               -device "virtio-9p-$VT,fsdev=fsrw$n,mount_tag=rw$n")
      n=$((n+1))
    done
  fi
  echo "KVM_RW_N=$n"
} > "$RUNDIR/config"

cat > "$RUNDIR/stage2" <<'EOF'
# stage 2: PID 1 in the real (host) root; run the command, record status, power off
B=/run/kvm/busybox
RUN=${0%/stage2}
. $RUN/env
export KVM_GUEST=1
if [ -x /bin/bash ]; then SH=/bin/bash; else SH=/bin/sh; fi
# no udevd: a tiny uevent listener loads drivers for hot-plugged devices by
# MODALIAS (hid-generic for a uhid device, usbhid for a vhci-attached one, ...)
if [ "${KVM_UEVENT:-1}" != 0 ]; then
  MP=/sbin/modprobe; [ -x $MP ] || MP="$B modprobe"
  printf '#!%s sh\n[ "$ACTION" = add ] && [ -n "$MODALIAS" ] && exec %s -qb "$MODALIAS"\n' $B "$MP" > /run/kvm/uevent-helper
  $B chmod +x /run/kvm/uevent-helper
  $B uevent /run/kvm/uevent-helper </dev/null >/dev/null 2>&1 &
fi
for m in $KVM_MODULES; do /sbin/modprobe $m || echo "kvm-stage2: modprobe $m failed" > /dev/console; done
echo "kvm-stage2: start $($B cut -d' ' -f1 /proc/uptime)" > /dev/console
$SH $RUN/cmd </dev/null >/run/kvm-stdout 2>/run/kvm-stderr
rc=$?
echo "kvm-stage2: end rc=$rc $($B cut -d' ' -f1 /proc/uptime)" > /dev/console
echo $rc > $RUN/exitcode
$B sync
$B poweroff -f
$B reboot -f
EOF

# A writable /dev/kvm is not proof that KVM runs this guest: nested set-ups
# (e.g. the kvm-pvm module in a microVM) hang at "Booting from ROM" with an
# INTERNAL_ERROR in the host's log. So KVM is used only after a probe boot of
# this kernel printed its banner; the verdict is cached per host kernel.
kvm_boots() {
  local verdict="$CACHE/kvm-probe-$(uname -r)" probe
  [ -f "$verdict" ] && { [ "$(cat "$verdict")" = yes ]; return; }
  probe=$(mktemp -d)
  timeout --kill-after=5 20 qemu-system-x86_64 -nodefaults -no-user-config -nographic -no-reboot \
    -machine "$MACHINE" -accel kvm -cpu "$CPU" -m 256M -kernel "$KIMG" \
    -append "console=ttyS0 panic=-1" -serial "file:$probe/console" -monitor none </dev/null >/dev/null 2>&1 &
  local qemu_pid=$! answer=no
  for _ in $(seq 150); do
    if grep -q "Linux version" "$probe/console" 2>/dev/null; then answer=yes; break; fi
    kill -0 "$qemu_pid" 2>/dev/null || break
    sleep 0.1
  done
  kill "$qemu_pid" 2>/dev/null; wait "$qemu_pid" 2>/dev/null
  rm -rf "$probe"
  echo "$answer" >"$verdict"
  log "KVM probe: $([ $answer = yes ] && echo "the guest boots under KVM" || echo "no banner within 15 s under KVM; using TCG")"
  [ $answer = yes ]
}

accel=${KVM_ACCEL:-}
if [ -z "$accel" ]; then
  if [ -w /dev/kvm ] && kvm_boots; then accel=kvm; else accel=tcg,thread=multi; fi
fi

qemu=(qemu-system-x86_64 -nodefaults -no-user-config -nographic -no-reboot
  -machine "$MACHINE" -accel "$accel" -cpu "$CPU" -smp "$SMP" -m "$MEM"
  -kernel "$KIMG" -initrd "$INITRD"
  -append "console=ttyS0 loglevel=4 panic=-1 mitigations=off ${KVM_APPEND:-}"
  -serial "file:$RUNDIR/console.log"
  -fsdev "local,id=fsroot,path=/,security_model=none,readonly=on,multidevs=remap"
  -device "virtio-9p-$VT,fsdev=fsroot,mount_tag=hostroot"
  -fsdev "local,id=fsrun,path=$RUNDIR,security_model=none"
  -device "virtio-9p-$VT,fsdev=fsrun,mount_tag=kvmrun"
  "${virtfs[@]}"
  -device "virtio-serial-$VT"
  -chardev "file,id=kout,path=$RUNDIR/stdout.fifo" -device virtserialport,chardev=kout,name=kvm.stdout
  -chardev "file,id=kerr,path=$RUNDIR/stderr.fifo" -device virtserialport,chardev=kerr,name=kvm.stderr
  -nic none -monitor none)

# relay the guest's stdout/stderr through FIFOs (works whatever our stdout is:
# tty, pipe, regular file, socket) and keeps the caller's file offsets intact
mkfifo "$RUNDIR/stdout.fifo" "$RUNDIR/stderr.fifo"
cat "$RUNDIR/stdout.fifo" & outpid=$!
cat "$RUNDIR/stderr.fifo" >&2 & errpid=$!
tailpid=
if [ -n "${KVM_VERBOSE:-}" ]; then
  touch "$RUNDIR/console.log"
  tail -n +1 -F "$RUNDIR/console.log" >&2 2>/dev/null &
  tailpid=$!
fi
set +e
# qemu runs in the background so that a SIGTERM/SIGINT to this script (ctest or CI
# timeouts, Ctrl-C) stops the VM at once instead of leaving it running
interrupted=
on_signal() { interrupted=1; log "interrupted: stopping the VM"; kill -TERM "$qpid" 2>/dev/null; }
timeout --kill-after=10 "$TIMEOUT" "${qemu[@]}" </dev/null &
qpid=$!
trap on_signal INT TERM HUP
while :; do
  wait "$qpid"; qrc=$?
  if [ $qrc -gt 128 ] && kill -0 "$qpid" 2>/dev/null; then continue; fi
  break
done
trap - INT TERM HUP
# if qemu never opened a FIFO, unblock its reader (an O_RDWR open of a FIFO never blocks)
for f in stdout stderr; do exec 3<>"$RUNDIR/$f.fifo"; exec 3>&-; done
wait $outpid $errpid 2>/dev/null
set -e
[ -n "$tailpid" ] && { sleep 0.2; kill "$tailpid" 2>/dev/null; wait "$tailpid" 2>/dev/null; }

if [ -n "$interrupted" ]; then exit 130; fi
if [ -f "$RUNDIR/exitcode" ]; then
  exit "$(cat "$RUNDIR/exitcode")"
fi
if [ $qrc -eq 124 ] || [ $qrc -eq 137 ]; then
  log "VM timed out after ${TIMEOUT}s; console tail:"
  tail -n 40 "$RUNDIR/console.log" 2>/dev/null | sed 's/\x1b\[[0-9;?]*[a-zA-Z]//g; s/\x1bc//g' >&2; exit 124
fi
log "VM ended (qemu rc=$qrc) without an exit status; console tail:"
tail -n 60 "$RUNDIR/console.log" 2>/dev/null | sed 's/\x1b\[[0-9;?]*[a-zA-Z]//g; s/\x1bc//g' >&2 || true
exit 125
