# Sourced by the fetch scripts: apt lines for one Debian suite, derived from
# the machine's own apt sources, so that no mirror host is named anywhere.
#
#   debian_sources SUITE TYPE...    e.g. debian_sources trixie deb deb-src
#
# Prints a "TYPE [signed-by=...] URI SUITE COMPONENTS" line per TYPE for each
# enabled entry that takes a Debian release itself (bookworm or trixie, not
# -updates or -security), with that entry's URIs, Signed-By and components.

debian_sources() {
    local suite=$1 f t
    shift
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        awk -v suite="$suite" -v want="$*" '
            function flush() {
                if (uris != "" && (" " suites " ") ~ / (bookworm|trixie) / &&
                    (" " types " ") ~ / deb / && enabled !~ /^[Nn]o/) {
                    n = split(uris, u, " ")
                    m = split(want, t, " ")
                    for (i = 1; i <= n; i++)
                        for (j = 1; j <= m; j++)
                            printf "%s %s%s %s %s\n", t[j], opt, u[i],
                                suite, comps
                }
                types = uris = suites = comps = opt = enabled = ""
            }
            /^[ \t]*$/ { flush(); next }
            /^#/ { next }
            /^Types:/ { sub(/^Types:[ \t]*/, ""); types = $0 }
            /^URIs:/ { sub(/^URIs:[ \t]*/, ""); uris = $0 }
            /^Suites:/ { sub(/^Suites:[ \t]*/, ""); suites = $0 }
            /^Components:/ { sub(/^Components:[ \t]*/, ""); comps = $0 }
            /^Enabled:/ { sub(/^Enabled:[ \t]*/, ""); enabled = $0 }
            /^Signed-By:/ { sub(/^Signed-By:[ \t]*/, "")
                            opt = "[signed-by=" $0 "] " }
            END { flush() }
        ' "$f"
    done
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -f "$f" ] || continue
        # deb [options] URI bookworm|trixie components...
        for t in "$@"; do
            sed -n -E 's/^[ \t]*deb[ \t]+((\[[^]]*\][ \t]+)?[^ \t]+)[ \t]+(bookworm|trixie)[ \t]+(.*)$/'"$t"' \1 '"$suite"' \4/p' "$f"
        done
    done
}
