# Byte-for-byte reproducibility of results/. Deterministic files are named
# *.state.txt (canonical state dumps), *.counts.txt (counts) and
# *.metrics.json (analytics output); everything else holds timings and is
# never hashed.

repro_files() { # DIR: the deterministic files in DIR, sorted
    (cd "$1" && ls -- *.state.txt *.counts.txt *.metrics.json 2>/dev/null | LC_ALL=C sort)
}

repro_write() { # DIR: rewrites DIR/SHA256SUMS
    (cd "$1" && repro_files . | xargs -r sha256sum) >"$1/SHA256SUMS.tmp" &&
        mv "$1/SHA256SUMS.tmp" "$1/SHA256SUMS"
}

# repro_check COMMITTED NEW MODEL: every file of MODEL listed in
# COMMITTED/SHA256SUMS must have been produced again in NEW, identical.
repro_check() {
    _sums=$1/SHA256SUMS
    if [ ! -f "$_sums" ]; then
        fail "reproducibility: $_sums exists (run nixos-tests/lab to create it)"
        return
    fi
    grep "  $3\\." "$_sums" | while read -r _hash _file; do
        if [ ! -f "$2/$_file" ]; then
            fail "reproducibility: $_file was produced again"
        elif [ "$(sha256sum <"$2/$_file" | cut -d' ' -f1)" = "$_hash" ]; then
            pass "reproducibility: $_file is byte-identical to results/"
        else
            fail "reproducibility: $_file is byte-identical to results/ (diff below)"
            diff "$1/$_file" "$2/$_file" | head -n 20
        fi
    done
}
