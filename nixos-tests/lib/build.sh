# Builds services/ with CMake: build_tree DIR [CMAKE OPTIONS...]
build_tree() {
    _dir=$1
    shift
    mkdir -p "$_dir"
    cmake -S "$COMMLAB_ROOT/services" -B "$_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" \
        >"$_dir/configure.log" 2>&1 || { cat "$_dir/configure.log" >&2; return 1; }
    cmake --build "$_dir" -j "$(nproc 2>/dev/null || echo 2)" >"$_dir/build.log" 2>&1 ||
        { tail -n 40 "$_dir/build.log" >&2; return 1; }
}
