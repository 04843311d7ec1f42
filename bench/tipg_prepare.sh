# Sourced by bench/ogc.sh and bench/tiles.sh (after bench/../scripts/dev/bootstrap.sh and a
# `say` function): tipg in its own virtualenv (bench/tipg_env.sh) unless BENCH_TIPG=0.
# Exports TIPG_VENV (empty when there is none) and BENCH_TIPG_REASON (why not); a failure
# here only costs the tipg columns of a benchmark.
prepare_tipg() {
    TIPG_VENV=""
    BENCH_TIPG_REASON=""
    if [ "${BENCH_TIPG:-1}" != 0 ]; then
        local log="${TMPDIR:-/tmp}/gefis-tipg-env.log" out
        if out="$(bash "$BENCH_DIR/tipg_env.sh" 2>"$log")"; then
            TIPG_VENV="$out"
        else
            BENCH_TIPG_REASON="tipg's virtualenv failed: $(tail -n 1 "$log")"
            say "$BENCH_TIPG_REASON (see $log)"
        fi
    fi
    export TIPG_VENV BENCH_TIPG_REASON
}
