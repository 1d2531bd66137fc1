#!/bin/sh
# rootfs.sh turns a Debian bookworm root into the root of the pgtui node
# image: PostgreSQL 15 from Debian, a postgres user with a fixed id, /data
# for the volume, and nothing an image need not carry (docs, man pages,
# translations, apt lists and caches, PostgreSQL's JIT).
#
# It runs as root inside that root, in both ways the image is built:
#   - nodeimage/Dockerfile: a RUN step on debian:bookworm-slim;
#   - `make image` (internal/image): in a chroot of a root made by
#     `debootstrap --variant=minbase bookworm`, with no registry.
# So both images come out of the same steps. Keep it POSIX sh.
set -eu

PG_MAJOR=15
# The official postgres images use 999 as well; a host directory given as
# the volume is prepared with `chown 999:999 DIR`.
PG_UID=999

export DEBIAN_FRONTEND=noninteractive

# Services never start inside an image build.
printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
chmod 755 /usr/sbin/policy-rc.d

# dpkg leaves out what a database server in a container never reads
# (not /usr/share/postgresql/*/man: update-alternatives needs those).
# JIT: Debian's postgresql-15 depends on libllvm14 (about 110 MB) for its
# JIT provider; without llvmjit.so, PostgreSQL runs with JIT unavailable
# (documented behaviour of jit_provider), which suits an OLTP node anyway.
cat >/etc/dpkg/dpkg.cfg.d/pgtui-image <<'EOF'
path-exclude=/usr/share/doc/*
path-include=/usr/share/doc/*/copyright
path-exclude=/usr/share/man/*
path-exclude=/usr/share/info/*
path-exclude=/usr/share/lintian/*
path-exclude=/usr/share/locale/*
path-exclude=/usr/share/i18n/*
path-exclude=/usr/lib/x86_64-linux-gnu/libLLVM-*
path-exclude=/usr/lib/aarch64-linux-gnu/libLLVM-*
path-exclude=/usr/lib/postgresql/*/lib/llvmjit*
path-exclude=/usr/lib/postgresql/*/lib/bitcode/*
path-exclude=/usr/lib/x86_64-linux-gnu/libz3.so*
path-exclude=/usr/lib/aarch64-linux-gnu/libz3.so*
EOF
# No recommends (sysstat, ...) and no apt caches kept.
cat >/etc/apt/apt.conf.d/90pgtui-image <<'EOF'
APT::Install-Recommends "false";
APT::Install-Suggests "false";
Binary::apt::APT::Keep-Downloaded-Packages "false";
EOF

if ! getent group postgres >/dev/null; then
	groupadd --system --gid "$PG_UID" postgres
fi
if ! getent passwd postgres >/dev/null; then
	useradd --system --uid "$PG_UID" --gid postgres --home-dir /var/lib/postgresql \
		--no-create-home --shell /bin/bash --comment "PostgreSQL administrator" postgres
fi

apt-get update
# postgresql-common first, so that installing the server creates no
# default cluster (the node runs initdb itself, in /data).
apt-get install -y postgresql-common
sed -ri 's/^#? *create_main_cluster *=.*$/create_main_cluster = false/' /etc/postgresql-common/createcluster.conf
grep -q '^create_main_cluster = false$' /etc/postgresql-common/createcluster.conf
apt-get install -y "postgresql-$PG_MAJOR"
test -x "/usr/lib/postgresql/$PG_MAJOR/bin/postgres"

# The volume: postgres owns it; the node keeps its data in /data/pgdata.
mkdir -p /data /var/run/postgresql
chown postgres:postgres /data /var/run/postgresql
chmod 700 /data
chmod 2775 /var/run/postgresql

# The same for what was installed before the dpkg rule above (the base
# system), keeping license files and glibc's locale.alias.
find /usr/share/doc -mindepth 1 ! -type d ! -name copyright -delete
find /usr/share/doc -mindepth 1 -type d -empty -delete
find /usr/share/locale -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +
rm -rf /usr/share/man/* /usr/share/info/* /usr/share/lintian/* /usr/share/i18n/*
# ssl-cert made a "snakeoil" key at install time; every copy of the image
# would share it. The node makes its own certificate in its data dir.
rm -f /etc/ssl/private/ssl-cert-snakeoil.key /etc/ssl/certs/ssl-cert-snakeoil.pem

# What apt and dpkg leave behind.
apt-get clean
rm -rf /var/lib/apt/lists/* /var/cache/apt/* /var/cache/debconf/*-old \
	/var/lib/dpkg/*-old /var/log/apt/* /var/log/dpkg.log /var/log/alternatives.log \
	/var/cache/ldconfig/aux-cache /tmp/* /var/tmp/* /root/.cache
rm -f /usr/sbin/policy-rc.d
