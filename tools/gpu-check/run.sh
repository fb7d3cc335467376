#!/usr/bin/env bash
# The GPU check of a bundle made by tools/gpu-check/bundle.sh: needs bash, coreutils, tar with gzip and the NVIDIA
# driver; python3 with torch adds the PyTorch column. No .NET, no network.
#
#   run.sh OUT_DIR [--emulate] [--budget SECONDS] [--only STAGE,...] [--limit STAGE=SECONDS]...
#
# Runs stages in order of what they tell, each under its own time limit and all within --budget (default 450 s,
# unpacking included, so that with the machine's start the call stays under 8 minutes on an H100); a stage that fails or
# runs out of time never stops the next. Writes OUT_DIR/report.md, OUT_DIR/results.json and one log per stage
# under OUT_DIR/logs/, prints a one-screen summary, and exits 1 when any stage failed, timed out or was not run
# for want of budget (skipped, for want of PyTorch say, is not a failure).
# --emulate runs every stage on the CPU emulator of the kernels (cuda-emu) with tiny shapes: what the project's
# CI runs, with no .NET on the PATH, to prove the bundle self-contained and its stages, limits and report sound.
set -uo pipefail

bundle=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
usage() { sed -n '5p' "${BASH_SOURCE[0]}" | sed 's/^#   /usage: /' >&2; exit 2; }

out="" emulate=0 budget=450 only="" overrides=()
while (($#)); do
  case $1 in
    --emulate) emulate=1 ;;
    --budget) budget=${2:?--budget needs seconds}; shift ;;
    --only) only=",${2:?--only needs stage names},"; shift ;;
    --limit) overrides+=("${2:?--limit needs STAGE=SECONDS}"); shift ;;
    -h|--help) usage ;;
    -*) echo "run.sh: unknown option $1" >&2; usage ;;
    *) [ -z "$out" ] || usage; out=$1 ;;
  esac
  shift
done
[ -n "$out" ] || usage
[[ $budget =~ ^[0-9]+$ ]] || { echo "run.sh: --budget takes whole seconds, not '$budget'" >&2; exit 2; }
all_stages=" device cuda-tests sft-resume nccl torch-peers kernel-bench train-cuda decode-cuda train-cuda-bf16 decode-cuda-bf16 train-ilgpu decode-ilgpu ilgpu-tests memcheck racecheck "
known() { [[ $all_stages == *" $1 "* ]] || { echo "run.sh: no stage '$1'; the stages:$all_stages" >&2; exit 2; }; }
for name in ${only//,/ }; do known "$name"; done
for override in "${overrides[@]}"; do
  [[ $override =~ ^([a-z0-9-]+)=([0-9]+)$ ]] || { echo "run.sh: --limit takes STAGE=SECONDS, not '$override'" >&2; exit 2; }
  known "${BASH_REMATCH[1]}"
done
mkdir -p "$out/logs" "$out/work" || { echo "run.sh: cannot create $out" >&2; exit 2; }
out=$(cd "$out" && pwd)
started=$(date +%s)
deadline=$((started + budget))

# The console and the test runners, unpacked for this run into a temporary folder (a few seconds) that also holds
# the checkpoints of the SFT stage: the bundle stays as it was sent, OUT_DIR small enough to send back.
scratch=$(mktemp -d "${TMPDIR:-/tmp}/c2f-gpu-check.XXXXXX") || { echo "run.sh: cannot create a temporary folder" >&2; exit 2; }
trap 'rm -rf "$scratch"' EXIT
app=$scratch/app
mkdir -p "$app" && tar -xzf "$bundle/app.tar.gz" -C "$app" --strip-components=1 \
  || { echo "run.sh: cannot unpack $bundle/app.tar.gz into $app" >&2; exit 2; }
export HOME=${HOME:-$scratch} DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 NO_COLOR=1 TERM=dumb
export C2F_APP=$app C2F_OUT=$out C2F_SCRATCH=$scratch

# What runs where: the GPU, or the emulator with tiny shapes.
if ((emulate)); then
  # The emulator's tiny shapes still take tens of seconds (two cores, bf16 mma emulated): twice each stage's limit.
  mode="emulation (cuda-emu, tiny shapes)" kernel_backend=cuda-emu test_trait=cuda-emu cap_scale=2
  step_shape=(--preset tiny --batch 1 --seq 32 --steps 1 --warmup 0) decode_shape=(--preset tiny --batch 2 --seq 16 --steps 2 --warmup 0)
  ilgpu_filter=(-class '*.IlgpuCpuForwardOpTests' -class '*.KernelContractTests')
  declare -A step_backends=([cuda]=cuda-emu [cuda-bf16]=cuda-emu-bf16 [ilgpu]="")
  no_ilgpu_step="ILGPU's CPU accelerator takes minutes for one tiny step; the ilgpu-tests stage runs its kernels"
else
  mode="GPU" kernel_backend=cuda test_trait=cuda cap_scale=1
  step_shape=(--preset small --batch 8 --seq 1024) decode_shape=(--preset small --batch 8 --seq 256)
  ilgpu_filter=(-trait Backend=cuda)
  declare -A step_backends=([cuda]=cuda [cuda-bf16]=cuda-bf16 [ilgpu]=ilgpu)
fi
export C2F_KERNEL_BACKEND=$kernel_backend

names=() statuses=() seconds=() limits=() notes=()
record() { names+=("$1"); statuses+=("$2"); seconds+=("$3"); limits+=("$4"); notes+=("$5"); }

# stage NAME CAP_SECONDS COMMAND...: runs COMMAND (a function below, in a child bash) with its log in logs/NAME.log;
# the limit is the stage's cap (scaled in emulation) or a --limit override, or what is left of the budget if less.
stage() {
  local name=$1 cap=$(($2 * cap_scale)); shift 2
  if [ -n "$only" ] && [[ $only != *",$name,"* ]]; then return; fi
  local override
  for override in "${overrides[@]}"; do [[ $override == "$name="* ]] && cap=${override#*=}; done
  local left=$((deadline - $(date +%s) - 5)) limit=$cap
  ((left < limit)) && limit=$left
  if ((left < 5)); then  # too little left for any stage to tell something
    record "$name" "not run" 0 "$cap" "the ${budget} s budget was spent"
    printf '%-16s not run (budget spent)\n' "$name"; return
  fi
  local log=$out/logs/$name.log note_file=$out/logs/$name.note
  rm -f "$note_file"
  [ -t 1 ] && printf '%-16s running (limit %s s)\r' "$name" "$limit"
  local t0 t1 rc status
  t0=$(date +%s.%N)
  timeout --kill-after=10 "$limit" bash -c 'STAGE=$0; "$@"' "$name" "$@" >"$log" 2>&1 </dev/null
  rc=$?
  t1=$(date +%s.%N)
  case $rc in
    0) status=passed ;;
    124|137) status="timed out" ;;
    77) status=skipped ;;
    *) status=failed ;;
  esac
  local note=""
  [ -s "$note_file" ] && note=$(head -c 400 "$note_file" | awk 'NR > 1 { printf "; " } { printf "%s", $0 }')
  [ "$status" = failed ] && [ -z "$note" ] && note="exit $rc: $(grep -v '^\s*$' "$log" | tail -n 1 | head -c 300)"
  [ "$status" = "timed out" ] && note="stopped at its ${limit} s limit${note:+; $note}"
  local elapsed
  elapsed=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
  record "$name" "$status" "$elapsed" "$limit" "$note"
  printf '%-16s %-9s %6s s  %s\n' "$name" "$status" "$elapsed" "$note"
}

# ---- stage bodies: each runs in a child process (for timeout), writes a one-line note, exits 77 to skip ----
note() { printf '%s\n' "$*" >>"$C2F_OUT/logs/$STAGE.note"; }

device_query() {
  if command -v nvidia-smi >/dev/null 2>&1; then
    if ! nvidia-smi --query-gpu=name,compute_cap,driver_version,memory.total --format=csv; then
      # Debian's CUDA toolkit can bring nvidia-smi to a machine without a driver: the emulation needs neither.
      [ "$C2F_KERNEL_BACKEND" = cuda ] && return 1
      note "nvidia-smi finds no driver; the emulation needs no GPU"
    fi
  elif [ "$C2F_KERNEL_BACKEND" = cuda ]; then
    note "nvidia-smi is not on the PATH"; return 1
  fi
  "$C2F_APP/c2f" info
}

# tests ASSEMBLY ARGS...: an xunit v3 runner of the bundle.
tests() {
  local assembly=$1; shift
  "$C2F_APP/$assembly" -noLogo -noColor "$@"
  test_summary $?
}
# test_summary EXIT_CODE: notes the runner's totals and fails when it ran nothing that matters: no test selected,
# or most tests skipped (on a machine whose GPU the tests do not find, say).
test_summary() {
  local rc=$1 summary log=$C2F_OUT/logs/$STAGE.log
  summary=$(grep -o 'Total: [0-9]*, Errors: [0-9]*, Failed: [0-9]*, Skipped: [0-9]*' "$log" | tail -n 1)
  if ! [[ $summary =~ Total:\ ([0-9]+),.*Skipped:\ ([0-9]+) ]]; then
    note "no test summary: $(grep -v '^\s*$' "$log" | tail -n 1 | head -c 200)"; return 1
  fi
  local total=${BASH_REMATCH[1]} skipped=${BASH_REMATCH[2]}
  note "$summary$(grep -o 'ERROR SUMMARY: [0-9]* errors\?' "$log" | tail -n 1 | sed 's/^/; /')"
  ((total > 0)) || { note "the filter selected no test"; return 1; }
  if ((2 * skipped > total)); then
    note "most tests skipped: $(grep -m 1 -A 1 '\[SKIP\]' "$log" | tail -n 1 | sed 's/^ *//' | head -c 200)"; return 1
  fi
  return "$rc"
}

# sanitized TOOL ASSEMBLY ARGS...: the tests under compute-sanitizer on a GPU; on the emulator, which the sanitizer
# cannot instrument, they run plain, which still proves the subset is selected.
sanitized() {
  local tool=$1; shift
  if [ "$C2F_KERNEL_BACKEND" != cuda ]; then
    note "the emulator runs no compute-sanitizer: the subset ran without it"
    tests "$@"
  elif command -v compute-sanitizer >/dev/null 2>&1; then
    local assembly=$1; shift
    tests_under compute-sanitizer --tool "$tool" --error-exitcode 1 "$C2F_APP/$assembly" "$@"
  else
    note "compute-sanitizer is not on the PATH"; return 1
  fi
}
tests_under() {
  "$@" -noLogo -noColor -parallel none
  test_summary $?
}

torch_peers() {
  command -v python3 >/dev/null 2>&1 || { note "no python3: the vs-PyTorch column stays empty"; return 77; }
  python3 -c 'import torch; assert torch.cuda.is_available()' 2>/dev/null \
    || { note "no PyTorch with CUDA: the vs-PyTorch column stays empty"; return 77; }
  "$C2F_APP/c2f" bench --mode kernels --backend "$C2F_KERNEL_BACKEND" --plan-out "$C2F_OUT/work/plan.json" --plan-only || return 1
  python3 "$C2F_APP/gpu-check/torch_peers.py" "$C2F_OUT/work/plan.json" "$C2F_OUT/work/peers.json" || return 1
  note "PyTorch $(python3 -c 'import torch; print(torch.__version__)')"
}

kernel_bench() {
  local peers=()
  [ -s "$C2F_OUT/work/peers.json" ] && peers=(--peers "$C2F_OUT/work/peers.json")
  "$C2F_APP/c2f" bench --mode kernels --backend "$C2F_KERNEL_BACKEND" "${peers[@]}" --report "$C2F_OUT/work/kernels.md"
}

# step MODE BACKEND ARGS...: one c2f bench of whole steps; its summary table goes into the report.
step() {
  local mode=$1 backend=$2; shift 2
  "$C2F_APP/c2f" bench --mode "$mode" --backend "$backend" "$@"
}

# A short SFT run stopped at a checkpoint and resumed must end bit for bit where an uninterrupted run ends.
sft_resume() {
  local backend=$1 work=$C2F_SCRATCH/sft
  local shape=(--preset tiny --batch 4 --seq 64 --seed 1 --save-every 3 --backend "$backend")
  rm -rf "$work" && mkdir -p "$work"
  "$C2F_APP/c2f" train sft "${shape[@]}" --out "$work/straight" --steps 6 || return 1
  "$C2F_APP/c2f" train sft "${shape[@]}" --out "$work/resumed" --steps 3 || return 1
  "$C2F_APP/c2f" train sft --out "$work/resumed" --resume --steps 6 --save-every 3 --backend "$backend" || return 1
  local file differ=()
  for file in "$work"/straight/checkpoint-000006/*; do
    cmp -s "$file" "$work/resumed/checkpoint-000006/${file##*/}" || differ+=("${file##*/}")
  done
  if ((${#differ[@]})); then note "6 steps straight vs 3 + 3 resumed: ${differ[*]} differ"; return 1; fi
  note "6 steps straight = 3 + 3 resumed, bit for bit ($(ls "$work/straight/checkpoint-000006" | wc -l) files)"
}

# libnccl.so.2 for the NCCL tests: the file C2F_NCCL_LIBRARY names, else the loader's (ldconfig), else PyTorch's pip
# install (site-packages/nvidia/nccl/lib, on python3's path). Prints the path; fails when there is none.
find_nccl() {
  if [ -n "${C2F_NCCL_LIBRARY:-}" ]; then [ -f "$C2F_NCCL_LIBRARY" ] && echo "$C2F_NCCL_LIBRARY"; return; fi
  local found
  found=$(ldconfig -p 2>/dev/null | awk '$1 == "libnccl.so.2" { print $NF; exit }')
  if [ -n "$found" ]; then echo "$found"; return; fi
  command -v python3 >/dev/null 2>&1 || return 1
  python3 -c 'import os, sys
for root in sys.path:
    path = os.path.join(root or ".", "nvidia", "nccl", "lib", "libnccl.so.2")
    if os.path.isfile(path):
        print(os.path.realpath(path)); sys.exit(0)
sys.exit(1)'
}

# The NCCL tests (trait nccl) with the library found: on a GPU a one-rank all-reduce and a training step through NCCL;
# skipped, saying why, without the library. On the emulator they run too, the GPU ones skipping: the stage is proven.
nccl_tests() {
  local library
  if library=$(find_nccl); then
    export C2F_NCCL_LIBRARY=$library
    note "libnccl.so.2: $library"
  elif [ "$C2F_KERNEL_BACKEND" = cuda ]; then
    note "libnccl.so.2 not found (C2F_NCCL_LIBRARY, ldconfig, python3's site-packages/nvidia/nccl/lib): NCCL not tested"; return 77
  else
    note "libnccl.so.2 not found; the emulator has no GPU for NCCL either"
  fi
  tests Mistral.C2F.Engine.Cuda.Tests -trait Backend=nccl
}

# Each body runs in a child bash under timeout: the functions travel in the environment.
export -f note device_query tests test_summary sanitized tests_under torch_peers kernel_bench step sft_resume find_nccl nccl_tests

# ---- the stages, in order of what they tell ----
echo "GPU check, ${mode}: budget ${budget} s, logs in $out/logs"
# xunit ANDs the trait with the classes, and ORs the classes: the Cuda* classes on a GPU, the Emulated* ones here.
classes() { local c; for c in "$@"; do printf -- "-class\n*%s\n" "$c"; done; }
mapfile -t memcheck_classes < <(classes RmsNormKernelTests ElementwiseKernelTests ReductionKernelTests RopeKernelTests LogProbKernelTests LossKernelTests)
mapfile -t racecheck_classes < <(classes FlashAttentionKernelTests GemmKernelTests)

stage device 60 device_query
stage cuda-tests 150 tests Mistral.C2F.Engine.Cuda.Tests -trait "Backend=$test_trait"
stage sft-resume 60 sft_resume "$kernel_backend"
stage nccl 60 nccl_tests
stage torch-peers 90 torch_peers
stage kernel-bench 90 kernel_bench
for backend in cuda cuda-bf16 ilgpu; do
  step_cap=45; [ "$backend" = ilgpu ] && step_cap=60  # ILGPU compiles its kernels in each process
  for mode_name in train decode; do
    shape=("${step_shape[@]}"); [ "$mode_name" = decode ] && shape=("${decode_shape[@]}")
    if [ -n "${step_backends[$backend]}" ]; then
      stage "$mode_name-$backend" "$step_cap" step "$mode_name" "${step_backends[$backend]}" "${shape[@]}"
    elif [ -z "$only" ] || [[ $only == *",$mode_name-$backend,"* ]]; then
      record "$mode_name-$backend" skipped 0 0 "$no_ilgpu_step"; printf '%-16s skipped (%s)\n' "$mode_name-$backend" "$no_ilgpu_step"
    fi
  done
done
stage ilgpu-tests 120 tests Mistral.C2F.Engine.Ilgpu.Tests "${ilgpu_filter[@]}"
stage memcheck 120 sanitized memcheck Mistral.C2F.Engine.Cuda.Tests -trait "Backend=$test_trait" "${memcheck_classes[@]}"
stage racecheck 120 sanitized racecheck Mistral.C2F.Engine.Cuda.Tests -trait "Backend=$test_trait" "${racecheck_classes[@]}"

# ---- report.md, results.json, summary ----
json() { local s=${1//\\/\\\\}; s=${s//\"/\\\"}; s=${s//$'\t'/ }; s=${s//$'\n'/ }; printf '"%s"' "$(printf '%s' "$s" | tr -d '\000-\037')"; }
total=$(( $(date +%s) - started ))
card=""
# A driverless nvidia-smi fails and prints its complaint on stdout: no card then.
if command -v nvidia-smi >/dev/null 2>&1 && query=$(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null); then
  card=$(printf '%s
' "$query" | head -n 1)
fi
card=${card:-none (emulation)}
failed=0
{
  printf '{\n  "mode": %s,\n  "card": %s,\n  "bundle": %s,\n  "budget_s": %s,\n  "total_s": %s,\n  "stages": [\n' \
    "$(json "$mode")" "$(json "$card")" "$(json "$(head -n 1 "$bundle/MANIFEST" 2>/dev/null)")" "$budget" "$total"
  for i in "${!names[@]}"; do
    [ "$i" -gt 0 ] && printf ',\n'
    printf '    {"name": %s, "status": %s, "seconds": %s, "limit_s": %s, "note": %s, "log": %s}' "$(json "${names[$i]}")" \
      "$(json "${statuses[$i]}")" "${seconds[$i]}" "${limits[$i]}" "$(json "${notes[$i]}")" "$(json "logs/${names[$i]}.log")"
  done
  printf '\n  ]\n}\n'
} >"$out/results.json"

# One step benchmark's log as a table row: its title line, then the values of its summary box.
step_row() {
  awk -v stage="$2" '
    title == "" && NF { title = $0; gsub(/^ +| +$/, "", title) }
    /│/ { n = split($0, cell, "│"); key = cell[2]; value = cell[3]; gsub(/^ +| +$/, "", key); gsub(/^ +| +$/, "", value); v[key] = value }
    END { printf "| %s | %s | %s | %s | %s | %s | %s |\n", stage, title, v["median step"], v["tokens/s"], v["model FLOP rate"], v["GEMM rate, 1024³ now"], v["allocs, frees, syncs"] "; " v["copies, launches"] }' "$1"
}
step_profile() { sed -n '/^ *op  /,$p' "$1" | sed 's/ *$//'; }  # the op-by-op table under the summary box
{
  echo "# GPU check: $card"
  echo
  echo "- mode: $mode; bundle: $(head -n 1 "$bundle/MANIFEST" 2>/dev/null || echo unknown)"
  echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); total ${total} s of a ${budget} s budget"
  echo
  echo "## Stages"
  echo
  echo "| stage | status | seconds | limit (s) | note |"
  echo "| --- | --- | ---: | ---: | --- |"
  for i in "${!names[@]}"; do
    echo "| ${names[$i]} | ${statuses[$i]} | ${seconds[$i]} | ${limits[$i]} | ${notes[$i]//|/\\|} |"
  done
  echo
  if [ -s "$out/logs/device.log" ]; then printf '## Device\n\n```text\n'; cat "$out/logs/device.log"; printf '```\n\n'; fi
  if [ -s "$out/work/kernels.md" ]; then sed 's/^# /## /' "$out/work/kernels.md"; echo; fi
  steps=()
  for i in "${!names[@]}"; do
    case ${names[$i]} in train-*|decode-*) [ "${statuses[$i]}" = passed ] && steps+=("${names[$i]}") ;; esac
  done
  if ((${#steps[@]})); then
    printf '## Training and decode steps\n\n| stage | run | median step | tokens/s | model FLOP rate | GEMM rate 1024³ (share reached) | device per step: allocations, frees, syncs; copies, launches |\n'
    printf '| --- | --- | ---: | ---: | ---: | --- | --- |\n'
    for name in "${steps[@]}"; do step_row "$out/logs/$name.log" "$name"; done
    echo
    for name in "${steps[@]}"; do
      printf '<details><summary>%s: time per op</summary>\n\n```text\n' "$name"; step_profile "$out/logs/$name.log"; printf '```\n\n</details>\n\n'
    done
  fi
} >"$out/report.md"

echo
echo "GPU check, ${mode}: ${total} s"
for i in "${!names[@]}"; do
  printf '  %-16s %-9s %7s s  %s\n' "${names[$i]}" "${statuses[$i]}" "${seconds[$i]}" "${notes[$i]:0:90}"
  case ${statuses[$i]} in failed|"timed out"|"not run") failed=$((failed + 1)) ;; esac
done
echo "report: $out/report.md, results: $out/results.json"
((failed == 0))
