# The models the local lab knows: one runner nixos-tests/local/MODEL.sh each
# (bench-MODEL.sh files are benchmarks, hostile-*.sh input corpora, not
# models). Prints them one per line, sync-rest first.
models_list() {
    for _f in "$1"/local/*.sh; do
        _m=$(basename "$_f" .sh)
        case $_m in bench-* | hostile-*) ;; *) echo "$_m" ;; esac
    done | sort -r
}
