#!/bin/bash
# tests/integration/test_config.sh -- `xsmtp-milter -t` over the fixtures in
# tests/data/config: exact output lines and exit codes.
#
# Each *.conf fixture states what -t must print in "# expect: LINE"
# comments (none: "configuration OK" and exit 0; some: exactly those lines
# and exit 1).  "@DIR@" in fixtures and expectations stands for the work
# directory the fixtures are copied to.  -t runs from that directory with
# the bare file name, so FILE in every problem line is the name alone.
# A few cases need a file state git cannot hold (modes, a missing file):
# they are set up below.

. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lab/common.sh"

MILTER=$top_builddir/milter/xsmtp-milter
DATA=$top_srcdir/tests/data/config
[ -x "$MILTER" ] || { echo "no $MILTER: build it first" >&2; exit 99; }

lab_init config
WORK=$LAB_DIR/config
mkdir -p "$WORK"

for file in "$DATA"/*; do
    sed "s|@DIR@|$WORK|g" "$file" > "$WORK/$(basename "$file")"
done
chmod 600 "$WORK"/*.keys "$WORK"/*.password
# The verifier's password files: one only its owner may read, one open.
cp "$WORK/xmpp.password" "$WORK/open.password"
chmod 644 "$WORK/open.password"
cp "$WORK/test.keys" "$WORK/open.keys"
chmod 644 "$WORK/open.keys"

# check_t NAME EXPECTED_OUTPUT EXPECTED_EXIT: runs -t -c NAME in $WORK.
check_t() {
    local name=$1 expected=$2 expected_rc=$3 output rc
    output=$(cd "$WORK" && "$MILTER" -t -c "$name" 2>&1)
    rc=$?
    lab_assert_eq "$name: output" "$expected" "$output"
    lab_assert_eq "$name: exit code" "$expected_rc" "$rc"
}

fixtures=0
for conf in "$WORK"/*.conf; do
    name=$(basename "$conf")
    expected=$(sed -n 's/^# expect: //p' "$conf")
    if [ -z "$expected" ]; then
        check_t "$name" "configuration OK" 0
    else
        check_t "$name" "$expected" 1
    fi
    fixtures=$((fixtures + 1))
done
lab_assert_eq "fixtures found" "yes" "$([ "$fixtures" -ge 20 ] && echo yes || echo "no ($fixtures)")"

# The configuration file itself: missing, and writable by everyone.
check_t "absent.conf" "absent.conf: file: cannot open: No such file or directory" 1
cp "$WORK/good-verify-only.conf" "$WORK/open.conf"
chmod 666 "$WORK/open.conf"
check_t "open.conf" "open.conf: file: writable by everyone (mode 0666): refused" 1

# The shipped sample is valid once its example paths exist.
sed "s|/etc/xsmtp/|$WORK/|g" "$top_srcdir/etc/xsmtp.conf" > "$WORK/sample.conf"
cp "$WORK/test.keys" "$WORK/keys"
chmod 600 "$WORK/keys"
check_t "sample.conf" "configuration OK" 0
# ... and every problem it can have is reported with its own line number.
sed -e 's|^socket = .*|socket = "tcp:25"|' -e 's|^    keys = .*|    keys = "keys"|' \
    "$WORK/sample.conf" > "$WORK/sample-bad.conf"
socket_line=$(grep -n '^socket = ' "$WORK/sample-bad.conf" | cut -d: -f1)
keys_line=$(grep -n '^    keys = ' "$WORK/sample-bad.conf" | cut -d: -f1)
check_t "sample-bad.conf" \
    "sample-bad.conf:$socket_line: socket: bad socket 'tcp:25' (expected inet:PORT@HOST, inet6:PORT@HOST, unix:/PATH or local:/PATH)
sample-bad.conf:$keys_line: sign.keys: not an absolute path 'keys'" 1

# The default path is SYSCONFDIR/xsmtp/xsmtp.conf (named in -h).
default_path=$("$MILTER" -h | sed -n 's/.*(default \(.*\))$/\1/p')
lab_assert_match "default configuration path" '/xsmtp/xsmtp\.conf$' "$default_path"

lab_finish
