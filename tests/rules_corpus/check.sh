#!/usr/bin/env bash
# Checks the ruleset corpus against the real nft: every good/*.nft (and every
# rules/*.nft of the repository) must pass `nft -c -f`, every bad/*.nft must
# fail. Runs nft in a fresh network namespace (unshare -n) so that nothing is
# loaded; skips (exit 77) when nft or unshare is not available.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
NFT=${NFT:-$(command -v nft || echo /usr/sbin/nft)}

if [ ! -x "$NFT" ]; then
	echo "SKIP: nft not found (set NFT=/path/to/nft)"
	exit 77
fi
if ! unshare -n true 2>/dev/null; then
	echo "SKIP: unshare -n is not permitted here (needs CAP_SYS_ADMIN or user namespaces)"
	exit 77
fi

fail=0
check() {  # expect(pass|fail) file
	local expect=$1 f=$2 out
	out=$(unshare -n "$NFT" -I "$(dirname "$f")" -c -f "$f" 2>&1)
	local rc=$?
	if [ "$expect" = pass ] && [ $rc -ne 0 ]; then
		echo "FAIL: nft rejects $f, expected it to pass:"
		echo "$out" | sed 's/^/    /'
		fail=1
	elif [ "$expect" = fail ] && [ $rc -eq 0 ]; then
		echo "FAIL: nft accepts $f, expected it to fail"
		fail=1
	else
		echo "ok: $expect $f"
	fi
}

for f in "$here"/good/*.nft "$root"/rules/*.nft; do check pass "$f"; done
for f in "$here"/bad/*.nft; do check fail "$f"; done
exit $fail
