#!/usr/bin/env bash
# The whole test suite. Each test file runs in its own uvu process under a timeout, so a hung
# or crashed file cannot take the others down; a file that prints no uvu summary counts as a failure.
# The last line is always "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."

BERTH_NO_LINK=1 bash scripts/setup.sh >&2 || { echo "setup failed"; echo "0 passed, 1 failed"; exit 1; }
bash scripts/test-setup.sh >&2 || { echo "test setup failed"; echo "0 passed, 1 failed"; exit 1; }

per_file_timeout=${BERTH_TEST_TIMEOUT:-900}
filter=${1:-}
passed=0
failed=0
failed_files=()
log_dir=$(mktemp -d /tmp/berth-test-logs.XXXXXX)

mapfile -t files < <(find test -name '*.test.ts' | sort | grep -E -- "${filter:-.}")
for file in "${files[@]}"; do
  name=$(basename "$file")
  log="$log_dir/$name.log"
  echo "── $file"
  start=$(date +%s)
  timeout --kill-after=10 "$per_file_timeout" \
    node --import tsx node_modules/uvu/bin.js test "$(basename "$file" | sed 's/\./\\./g')\$" --no-color >"$log" 2>&1
  rc=$?
  total=$(sed -n 's/^  *Total: *\([0-9]*\).*/\1/p' "$log" | tail -1)
  ok=$(sed -n 's/^  *Passed: *\([0-9]*\).*/\1/p' "$log" | tail -1)
  if [ -z "$total" ] || [ -z "$ok" ]; then
    cat "$log"
    echo "   no uvu summary (exit $rc): counted as a failure"
    failed=$((failed + 1)); failed_files+=("$file")
    continue
  fi
  passed=$((passed + ok))
  failed=$((failed + total - ok))
  if [ "$ok" != "$total" ] || [ "$rc" != 0 ]; then
    cat "$log"
    failed_files+=("$file")
    [ "$ok" = "$total" ] && { echo "   exit $rc after a full pass: counted as a failure"; failed=$((failed + 1)); }
  else
    echo "   $ok/$total in $(( $(date +%s) - start ))s"
  fi
done
rm -rf "$log_dir"
[ "${#files[@]}" -gt 0 ] || { echo "no test files matched"; failed=$((failed + 1)); }
if [ "${#failed_files[@]}" -gt 0 ]; then echo "failing files: ${failed_files[*]}"; fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
