#!/bin/sh
# Checks the links of Markdown files: every relative link names a file or
# folder that exists, and every anchor (`#x` or `FILE.md#x`) a heading of
# that file, spelt as GitHub spells it (lower case, punctuation dropped,
# spaces as hyphens, a repeated heading -1, -2, ...). Links in code (fenced
# or indented blocks, `spans`) and to other sites are not checked.
# usage: doclinks.sh FILE.md...   prints each broken link; exits 1 if any
set -u

# The anchors of a Markdown file, one a line.
doclinks_anchors() {
    awk '
        /^```/ { fence = !fence; next }
        fence { next }
        /^#+ / {
            h = $0
            sub(/^#+ +/, "", h); sub(/ +#* *$/, "", h)
            h = tolower(h)
            gsub(/[^a-z0-9 _-]/, "", h)
            gsub(/ /, "-", h)
            n = seen[h]++
            print (n ? h "-" n : h)
        }' "$1"
}

doclinks_check() {
    _bad=0
    for _md in "$@"; do
        _dir=$(dirname "$_md")
        # Each link as FILE-LINE TAB TARGET, code left out.
        _links=$(awk '
            /^```/ { fence = !fence; next }
            fence || /^    / { next }
            {
                l = $0
                gsub(/`[^`]*`/, "", l)
                while (match(l, /\]\([^) ]+\)/)) {
                    print FNR "\t" substr(l, RSTART + 2, RLENGTH - 3)
                    l = substr(l, RSTART + RLENGTH)
                }
            }' "$_md")
        [ -n "$_links" ] || continue
        _tab=$(printf '\t')
        while IFS=$_tab read -r _line _target; do
            case $_target in http://* | https://* | mailto:*) continue ;; esac
            _path=${_target%%#*}
            _anchor=
            case $_target in *'#'*) _anchor=${_target#*#} ;; esac
            if [ -z "$_path" ]; then
                _file=$_md
            else
                _file=$_dir/$_path
                if [ ! -e "$_file" ]; then
                    echo "$_md:$_line: no such file: $_target"
                    _bad=1
                    continue
                fi
            fi
            [ -n "$_anchor" ] || continue
            case $_file in *.md) ;; *) continue ;; esac
            if ! doclinks_anchors "$_file" | grep -qxF -- "$_anchor"; then
                echo "$_md:$_line: no heading for #$_anchor in $_file"
                _bad=1
            fi
        done <<EOF
$_links
EOF
    done
    return $_bad
}

doclinks_check "$@"
