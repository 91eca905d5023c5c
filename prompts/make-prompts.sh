#!/usr/bin/env bash
# make-prompts.sh SRC_DIR OUT_DIR — builds 8 kHz mono 16-bit WAV prompts from text.
#
# Every SRC_DIR/*.txt holds lines `name|text` (blank lines and lines starting with # are
# skipped).  Each becomes OUT_DIR/name.wav, spoken by espeak-ng's Mandarin voice and
# resampled by sox; a text `@sox ARGS` is instead made by `sox -n ... ARGS` (music, tones).  A prompt is rebuilt only when its text changed (the text is kept
# beside the WAV as name.txt), so `make prompts` is quick after the first time.
set -euo pipefail
src=${1:-prompts}
out=${2:-build/prompts}
voice=${HOTLINE_VOICE:-cmn}
for tool in espeak-ng sox; do
  command -v "$tool" >/dev/null || { echo "make-prompts: $tool is missing: run 'make deps' (as root) first" >&2; exit 1; }
done
mkdir -p "$out"

made=0; kept=0
while IFS= read -r line || [ -n "$line" ]; do
  case "$line" in ''|'#'*) continue ;; esac
  name=${line%%|*}
  text=${line#*|}
  if [[ ! "$name" =~ ^[a-z0-9_]+(/[a-z0-9_]+)*$ ]]; then
    echo "make-prompts: bad prompt name '$name' (use a-z 0-9 _ and /)" >&2; exit 1
  fi
  wav="$out/$name.wav"
  if [ -f "$wav" ] && [ -f "$out/$name.txt" ] && [ "$(cat "$out/$name.txt")" = "$text" ]; then
    kept=$((kept + 1)); continue
  fi
  mkdir -p "$(dirname "$wav")"
  if [[ "$text" == "@sox "* ]]; then
    # shellcheck disable=SC2086 # the arguments are sox's, word-split on purpose
    sox -q -n -r 8000 -c 1 -b 16 -e signed-integer "$wav" ${text#@sox }
    printf '%s' "$text" > "$out/$name.txt"
    made=$((made + 1)); continue
  fi
  tmp=$(mktemp --suffix=.wav)
  espeak-ng -v "$voice" -s 150 -w "$tmp" "$text"
  # trim espeak's leading and trailing silence; 3 dB headroom avoids clipping at 8 kHz
  sox -q "$tmp" -r 8000 -c 1 -b 16 -e signed-integer "$wav" gain -3 \
    silence 1 0.01 0.5% reverse silence 1 0.01 0.5% reverse
  rm -f "$tmp"
  printf '%s' "$text" > "$out/$name.txt"
  made=$((made + 1))
done < <(cat "$src"/*.txt)
echo "make-prompts: $made made, $kept unchanged, in $out"
