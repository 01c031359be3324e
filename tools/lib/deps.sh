# tools/lib/deps.sh - the Debian packages Bastide needs, and installing them
#
# Sourced by tools/quickstart and tools/check.  Keep one list: what builds
# the code, and what the tests drive it with.

BASTIDE_BUILD_PKGS="build-essential autoconf automake pkg-config
	libgnutls28-dev libetpan-dev libldap-dev libxapian-dev libical-dev
	libevent-dev liblmdb-dev libmicrohttpd-dev libxml2-dev zlib1g-dev
	libcmocka-dev"
BASTIDE_RUN_PKGS="slapd ldap-utils gnutls-bin"
BASTIDE_TEST_PKGS="python3 python3-pytest python3-caldav swaks isync
	lmdb-utils postfix libnet-ssleay-perl libio-socket-ssl-perl
	neomutt thunderbird"

# bastide_missing_pkgs PKG... - print the packages that are not installed
bastide_missing_pkgs() {
	local p missing=""
	for p in "$@"; do
		if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		    grep -q 'install ok installed'; then
			missing="$missing $p"
		fi
	done
	echo "$missing"
}

# bastide_install_pkgs PKG... - apt-get install what is missing (as root)
bastide_install_pkgs() {
	local missing
	missing=$(bastide_missing_pkgs "$@")
	[ -z "${missing// /}" ] && return 0
	if [ "$(id -u)" != 0 ]; then
		echo "missing Debian packages:$missing" >&2
		echo "run as root, or: apt-get install$missing" >&2
		return 1
	fi
	echo "installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	# never start the system's own slapd while installing it
	local policy=/usr/sbin/policy-rc.d created_policy=no
	if [ ! -e "$policy" ]; then
		printf '#!/bin/sh\nexit 101\n' > "$policy"
		chmod 755 "$policy"
		created_policy=yes
	fi
	apt-get update -qq || true
	local rc=0
	apt-get install -y -q --no-install-recommends $missing || rc=$?
	[ "$created_policy" = yes ] && rm -f "$policy"
	return $rc
}

# bastide_build SRC BUILD [CONFIGURE-ARGS...] - bootstrap if needed, build
bastide_build() {
	local src=$1 build=$2
	shift 2
	if [ ! -x "$src/configure" ] || [ "$src/configure.ac" -nt "$src/configure" ]; then
		(cd "$src" && autoreconf -fi) || return 1
	fi
	mkdir -p "$build"
	if [ ! -f "$build/Makefile" ]; then
		(cd "$build" && "$src/configure" "$@") || return 1
	fi
	make -C "$build" -j"$(nproc)" || return 1
}
