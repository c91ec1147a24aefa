#!/usr/bin/env bash
# Runs the dashboard example against a local Freshet, in one command:
#
#   examples/dashboard/run.sh
#
# 1. Uses the Freshet listening on 127.0.0.1:$FRESHET_PORT (default 4566), or
#    starts one there from $FRESHET_BIN (default target/release/freshet, then
#    target/debug/freshet) with its data in examples/dashboard/freshet-data.
# 2. Migrates both databases: SQLite (`default`) and Freshet (`freshet`,
#    where the orders table and the four ranking views are created).
# 3. Generates random orders in the background (`manage.py gen_data`, a
#    batch every second; GEN_DATA_ARGS overrides its arguments).
# 4. Serves the page on http://127.0.0.1:$DASHBOARD_PORT/ (default 8000)
#    until interrupted; then stops what it started.
#
# Python is $PYTHON (default: the repository's .venv, which has Django and
# django-freshet: `pip install -e python/django-freshet`).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "$here/../.." && pwd)"
python="${PYTHON:-$repo_root/.venv/bin/python}"
export FRESHET_PORT="${FRESHET_PORT:-4566}"
dashboard_port="${DASHBOARD_PORT:-8000}"
cd "$here"

pids=()
cleanup() {
    local pid
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

listening() { (: >"/dev/tcp/127.0.0.1/$FRESHET_PORT") 2>/dev/null; }

if listening; then
    echo "run.sh: using the Freshet on 127.0.0.1:$FRESHET_PORT"
else
    freshet="${FRESHET_BIN:-}"
    if [[ -z "$freshet" ]]; then
        for candidate in "$repo_root/target/release/freshet" "$repo_root/target/debug/freshet"; do
            if [[ -x "$candidate" ]]; then
                freshet="$candidate"
                break
            fi
        done
    fi
    if [[ -z "$freshet" || ! -x "$freshet" ]]; then
        echo "run.sh: no freshet binary: run 'cargo build --release' or set FRESHET_BIN" >&2
        exit 1
    fi
    echo "run.sh: starting $freshet on 127.0.0.1:$FRESHET_PORT (data in $here/freshet-data)"
    "$freshet" serve --data-dir "$here/freshet-data" --listen "127.0.0.1:$FRESHET_PORT" &
    pids+=($!)
    for _ in $(seq 1 300); do
        listening && break
        sleep 0.1
    done
    listening || { echo "run.sh: freshet did not start" >&2; exit 1; }
fi

"$python" manage.py migrate --noinput
"$python" manage.py migrate --database freshet --noinput

# shellcheck disable=SC2086 # GEN_DATA_ARGS is a list of arguments.
"$python" manage.py gen_data ${GEN_DATA_ARGS:---batch 50 --interval 1} >/dev/null &
pids+=($!)

echo "run.sh: dashboard on http://127.0.0.1:$dashboard_port/ (Ctrl-C stops)"
# In the background and waited for, so that a signal to this script runs
# the cleanup at once.
"$python" manage.py runserver "127.0.0.1:$dashboard_port" --noreload &
pids+=($!)
wait "${pids[-1]}"
