# Sourced by the profile scripts beside it: builds the package in release mode, then compiles a
# standalone driver against the library's objects. Usage: build_driver SOURCE MODULE OUTPUT [swiftc flags]
# The objects are the ones the last build listed: a glob of the build folder would also pick up the
# objects of source files since deleted, which the build leaves behind, and then fail to link.
build_driver() {
    local source=$1 module=$2 output=$3
    shift 3
    swift build -c release --product pool-bench >/dev/null
    local objects=() object
    while IFS= read -r object; do
        [[ -f "$object" ]] && objects+=("$object")
    done < <(grep -o '"object" *: *"[^"]*"' .build/release/WorkerPool.build/output-file-map.json | sed 's/.*: *"//; s/"$//')
    swiftc -O -wmo "$@" -module-name "$module" -I .build/release/Modules "$source" "${objects[@]}" -o "$output"
}
