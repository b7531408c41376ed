#!/usr/bin/env bash
# Tries the README as a stranger would: a fresh clone of this repository's HEAD, the quick start's
# `npm ci && npm start` exactly as printed (no project variables set), then every ```bash block of the
# README in order, in one shell, against the gateway it started; then Ctrl-C, which must stop it
# gracefully. A block right after a line `<!-- readme-examples: skip … -->` is not run (it needs
# something a fresh machine lacks, and says what). Any example whose curl answers >= 400 fails the
# run, except cancels (`-X DELETE`), which may meet a job that already finished (409).
#
#   bash scripts/readme-examples.sh            # as CI runs it
#   KEEP=1 bash scripts/readme-examples.sh     # keep the clone and logs for a look afterwards
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/posthuman-readme-XXXXXX)
clone="$work/posthuman-gateway"
log="$work/npm-start.log"
gateway_pid=

finish() {
  status=$?
  if [ -n "$gateway_pid" ] && kill -0 "$gateway_pid" 2>/dev/null; then kill -INT -- "-$gateway_pid" 2>/dev/null || true; sleep 2; kill -KILL -- "-$gateway_pid" 2>/dev/null || true; fi
  if [ "$status" -ne 0 ]; then
    echo "--- npm start output (last 60 lines) ---" >&2
    tail -n 60 "$log" >&2 || true
  fi
  if [ -z "${KEEP:-}" ]; then rm -rf "$work"; else echo "kept $work" >&2; fi
  exit "$status"
}
trap finish EXIT

git clone -q "$repo" "$clone"
cd "$clone"

# The README's first command, verbatim, in a shell with nothing but PATH and HOME.
first=$(awk '/^```bash/{getline; print; exit}' README.md)
case "$first" in
  "npm ci && npm start"*) ;;
  *) echo "the README's first command is no longer 'npm ci && npm start': $first" >&2; exit 1 ;;
esac
echo "==> $first   (fresh clone in $clone)"
setsid env -i PATH="$PATH" HOME="$HOME" TERM=dumb bash -c 'npm ci && npm start' >"$log" 2>&1 &
gateway_pid=$!
for _ in $(seq 1 600); do
  grep -q 'Posthuman Gateway listening on' "$log" && grep -q 'operator token' "$log" && break
  kill -0 "$gateway_pid" 2>/dev/null || { echo "npm ci && npm start exited before the gateway listened" >&2; exit 1; }
  sleep 1
done
grep -q 'Posthuman Gateway listening on' "$log" || { echo "the gateway did not start within 10 minutes" >&2; exit 1; }
echo "    gateway is up"

# Every other bash block, in order, as one script (the quick start block's lines are commands to
# run, not examples: skip it).
examples="$work/examples.sh"
awk '
  /<!-- readme-examples: skip/ { skip = 1; next }
  /^```bash/ { blocks++; if (blocks > 1 && !skip) { run = 1; print "# --- README block " blocks " (line " NR ")" } ; skip = 0; next }
  /^```/ { run = 0; next }
  run { print }
' README.md >"$examples"
echo "==> running $(grep -c '^# --- README block' "$examples") README blocks"

cat >"$work/prelude.sh" <<'EOF'
set -euo pipefail
curl() {
  local method_delete=0 a
  for a in "$@"; do [ "$a" = "DELETE" ] && method_delete=1; done
  # --max-time: an example that hangs fails the check instead of holding CI up.
  if [ "$method_delete" = 1 ]; then command curl --max-time 300 "$@"; else command curl --fail-with-body --max-time 300 "$@"; fi
}
trap 'echo "README example failed at line $LINENO of $BASH_SOURCE: $BASH_COMMAND" >&2' ERR
EOF
(cd "$clone" && timeout 1200 bash -c "source '$work/prelude.sh'; source '$examples'") >"$work/examples.out" 2>&1 || {
  cat "$work/examples.out" >&2
  exit 1
}
tail -n 5 "$work/examples.out"

echo "==> Ctrl-C"
kill -INT -- "-$gateway_pid"
for _ in $(seq 1 30); do kill -0 "$gateway_pid" 2>/dev/null || break; sleep 1; done
if kill -0 "$gateway_pid" 2>/dev/null; then echo "npm start did not stop within 30 s of Ctrl-C" >&2; exit 1; fi
grep -q 'Posthuman Gateway stopped' "$log" || { echo "npm start did not stop gracefully" >&2; exit 1; }
if grep -q 'second SIGINT' "$log"; then echo "Ctrl-C was taken as two" >&2; exit 1; fi
gateway_pid=
echo "README examples: all passed"
