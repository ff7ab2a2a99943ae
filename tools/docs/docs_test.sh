#!/bin/bash
# Checks the Markdown documentation (tools/docs/BUILD says how the files reach this test):
#   - every relative link [text](path) and [text](path#anchor) in every *.md file outside third_party/ and runs/
#     names an existing file or directory, and an anchor names a heading of the target file (GitHub's slug: lower
#     case, punctuation other than '-' and '_' removed, spaces to '-'; links to headings repeated in one file may add
#     GitHub's -1, -2 suffix); links inside code blocks and code spans are not links;
#   - README.md is at most 6144 bytes; every other .md at most 15360 bytes, except CHANGELOG.md and
#     experiments/NOTES.md (at most 20480).
# The root package's pages come in as runfiles (//:docs); the other packages' pages and the link targets that are
# source files (a .proto, a folder) are not runfiles (a root-package glob stops at sub-packages, and their BUILD files
# do not export their pages), so the test follows README.md's runfiles link back to the source tree and checks every
# page there: the .md files git knows (tracked, or new and not ignored), else every .md file found. Where the runfiles
# are copies rather than links it checks the runfiles alone and skips link targets that are not Markdown.
set -euo pipefail
export LC_ALL=C

runfiles="${TEST_SRCDIR:-}/${TEST_WORKSPACE:-}"
if [[ $# -gt 0 ]]; then runfiles="$1"; fi  # for a run by hand: tools/docs/docs_test.sh /path/to/checkout
[[ -f ${runfiles}/README.md ]] || { echo "FAIL: no README.md under '${runfiles}'"; exit 1; }

root="$(dirname "$(readlink -f "${runfiles}/README.md")")"
in_source_tree=0
if [[ -f ${root}/WORKSPACE ]]; then in_source_tree=1; fi

list_docs() {  # the .md files to check, relative to $1
  if [[ -e $1/.git ]] && command -v git > /dev/null; then
    git -C "$1" ls-files --cached --others --exclude-standard -- '*.md'
  else
    (cd "$1" && find . -name '*.md' -not -path './bazel-*' | sed 's|^\./||')
  fi | grep -v -e '^third_party/' -e '^runs/' | sort -u
}

if (( in_source_tree )); then
  base="${root}"
else
  base="${runfiles}"
  echo "note: runfiles are not links into the source tree; links to files other than .md are not checked"
fi
mapfile -t docs < <(list_docs "${base}")
(( ${#docs[@]} > 0 )) || { echo "FAIL: no Markdown files found under ${base}"; exit 1; }

failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# Prints the file's text with fenced code blocks blanked and code spans removed (line numbers kept).
strip_code() {
  awk '
    /^[ \t]*(```|~~~)/ { fence = !fence; print ""; next }
    fence { print ""; next }
    { gsub(/``[^`]*``/, ""); gsub(/`[^`]*`/, ""); print }
  ' "$1"
}

# Prints the GitHub slug of every heading in the file (code spans keep their words), with -1, -2 ... for repeats.
slugs() {
  awk '
    /^[ \t]*(```|~~~)/ { fence = !fence; next }
    fence { next }
    /^#+[ \t]/ && match($0, /^#+/) && RLENGTH <= 6 {
      s = $0
      sub(/^#+[ \t]+/, "", s); sub(/[ \t]+#*[ \t]*$/, "", s)
      s = tolower(s)
      gsub(/[^a-z0-9 _-]/, "", s)
      gsub(/ /, "-", s)
      if (s in seen) { seen[s]++; print s "-" seen[s] } else { seen[s] = 0; print s }
    }' "$1"
}

links_checked=0
for doc in "${docs[@]}"; do
  file="${base}/${doc}"
  dir="$(dirname "${doc}")"

  size=$(wc -c < "${file}")
  case "${doc}" in
    README.md) limit=6144 ;;
    CHANGELOG.md | experiments/NOTES.md) limit=20480 ;;
    *) limit=15360 ;;
  esac
  (( size <= limit )) || fail "${doc} is ${size} bytes, over its ${limit}"

  # Every [text](target) outside code: line number and target (up to a space, so a "title" is dropped).
  while IFS=$'\t' read -r line target; do
    case "${target}" in
      http://* | https://* | mailto:* | ftp://*) continue ;;
    esac
    links_checked=$((links_checked + 1))
    path="${target%%#*}"
    anchor=""
    [[ ${target} == *"#"* ]] && anchor="${target#*#}"
    if [[ -z ${path} ]]; then
      target_file="${doc}"
    else
      target_file="$(realpath -m --relative-to="${base}" "${base}/${dir}/${path}")"
      if [[ ${target_file} == ../* ]]; then
        fail "${doc}:${line}: link '${target}' leaves the repository"; continue
      fi
      if [[ ! -e ${base}/${target_file} ]]; then
        if (( ! in_source_tree )) && [[ ${target_file} != *.md ]]; then continue; fi
        fail "${doc}:${line}: link '${target}': no file or directory ${target_file}"; continue
      fi
    fi
    if [[ -n ${anchor} ]]; then
      if [[ ${target_file} != *.md || ! -f ${base}/${target_file} ]]; then
        fail "${doc}:${line}: link '${target}': an anchor into something that is not a Markdown file"; continue
      fi
      if ! slugs "${base}/${target_file}" | grep -qxF -- "${anchor}"; then
        fail "${doc}:${line}: link '${target}': ${target_file} has no heading with the anchor '#${anchor}'"
      fi
    fi
  done < <(strip_code "${file}" | awk '{
      s = $0
      while (match(s, /\]\([^)]*\)/)) {
        t = substr(s, RSTART + 2, RLENGTH - 3)
        sub(/^[ \t<]+/, "", t); sub(/[ \t].*$/, "", t); sub(/>$/, "", t)
        if (t != "") print NR "\t" t
        s = substr(s, RSTART + RLENGTH)
      }
    }')
done

echo "${#docs[@]} Markdown files, ${links_checked} relative links checked, ${failures} failure(s)"
(( failures == 0 ))
