#!/usr/bin/env bash
# Proves the GPU check bundle on a machine without a GPU (CI runs this after the tests):
#
#   check-bundle.sh [WORK_DIR]   (default: a temporary folder, removed afterwards)
#
# Builds the bundle (without nvcc: with no PTX, which the emulation does not need), which fails over its size
# limit; then runs its run.sh in emulation with the environment emptied and a PATH that has every program of
# /usr/bin and /bin except dotnet, so anything that still needed the SDK fails; then checks each stage's status,
# results.json and report.md; then proves a stage's time limit stops it without stopping the next, and that a
# spent budget leaves the rest not run.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
work=${1:-}
if [ -z "$work" ]; then work=$(mktemp -d); trap 'rm -rf "$work"' EXIT; fi
mkdir -p "$work"
fail() { echo "check-bundle: $*" >&2; exit 1; }

ptx=(); command -v nvcc >/dev/null 2>&1 || ptx=(--allow-no-ptx)
bash "$repo/tools/gpu-check/bundle.sh" "$work/bundle" "${ptx[@]}"

# A PATH without .NET: links to every program of /usr/bin and /bin but dotnet.
bin=$work/bin-without-dotnet
rm -rf "$bin" && mkdir -p "$bin"
for program in /usr/bin/* /bin/*; do
  name=${program##*/}
  [[ $name == dotnet* ]] && continue
  [ -e "$bin/$name" ] || ln -s "$program" "$bin/$name"
done
bare() { env -i PATH="$bin" HOME="$work/home" bash "$@"; }
bare -c 'command -v dotnet' >/dev/null && fail "dotnet is still on the bare PATH"

# status STAGE: the stage's status in a results.json.
status() { grep -o "\"name\": \"$2\", \"status\": \"[a-z ]*\"" "$1/results.json" | sed 's/.*"status": "//; s/"$//'; }
expect() {  # expect RUN STAGE STATUS...
  local run=$1 stage=$2 actual; shift 2
  actual=$(status "$run" "$stage")
  local wanted
  for wanted in "$@"; do [ "$actual" = "$wanted" ] && return; done
  fail "$stage is '${actual:-absent}' in $run/results.json, expected $*; its log: $run/logs/$stage.log"
}

echo "==> the emulation run, no .NET on the PATH"
run=$work/emulation
if ! bare "$work/bundle/run.sh" "$run" --emulate; then fail "the emulation run failed (see above and $run/logs)"; fi
for stage in device cuda-tests sft-resume nccl kernel-bench train-cuda decode-cuda train-cuda-bf16 decode-cuda-bf16 ilgpu-tests memcheck racecheck; do
  expect "$run" "$stage" passed
done
expect "$run" torch-peers skipped passed
expect "$run" train-ilgpu skipped
if command -v python3 >/dev/null 2>&1; then python3 -m json.tool "$run/results.json" >/dev/null || fail "$run/results.json is not JSON"; fi
for heading in "## Stages" "## Device" "## Kernel benchmarks" "## Training and decode steps"; do
  grep -q "^$heading" "$run/report.md" || fail "$run/report.md has no '$heading'"
done

echo "==> the nccl stage finds PyTorch's libnccl.so.2 on python3's path and hands it to the tests"
if command -v python3 >/dev/null 2>&1; then
  site=$work/site-packages
  mkdir -p "$site/nvidia/nccl/lib" && : >"$site/nvidia/nccl/lib/libnccl.so.2"
  run=$work/nccl
  env -i PATH="$bin" HOME="$work/home" PYTHONPATH="$site" bash "$work/bundle/run.sh" "$run" --emulate --only nccl \
    || fail "the nccl stage failed with a library found (see $run/logs)"
  expect "$run" nccl passed
  grep -q "libnccl.so.2: $site/nvidia/nccl/lib/libnccl.so.2" "$run/results.json" || fail "the nccl stage did not name $site's library: $run/results.json"
else
  echo "check-bundle: no python3 here: the nccl stage's search of site-packages is not checked"
fi

echo "==> a stage past its time limit is stopped and the next one still runs"
run=$work/limits
if bare "$work/bundle/run.sh" "$run" --emulate --only cuda-tests,kernel-bench --limit cuda-tests=3; then
  fail "a run with a timed-out stage exited 0"
fi
expect "$run" cuda-tests "timed out"
expect "$run" kernel-bench passed

echo "==> a spent budget leaves the stages not run, and the run failed"
run=$work/budget
if bare "$work/bundle/run.sh" "$run" --emulate --only device,kernel-bench --budget 6; then fail "a run that ran no stage exited 0"; fi
expect "$run" device "not run"
expect "$run" kernel-bench "not run"

echo "check-bundle: the bundle is self-contained, within its size, and its stages, limits and report work"
