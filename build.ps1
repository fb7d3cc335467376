#!/usr/bin/env pwsh
# Build entry point. On a fresh machine: `dotnet tool restore && dotnet pwsh build.ps1 <verb>`.
[CmdletBinding()]
param(
    [Parameter(Position = 0)]
    [ValidateSet('build', 'kernels', 'test', 'bench', 'demo', 'clean', 'gpu-check')]
    [string] $Verb = 'build',

    # For `test`: a dotnet test filter, e.g. 'Backend=cpu'.
    [string] $Filter = '',

    # For `bench`: a BenchmarkDotNet filter, e.g. '*Gemm*'.
    [string] $Benchmarks = '*'
)

$ErrorActionPreference = 'Stop'
Set-Location $PSScriptRoot
$solution = 'Mistral.C2F.Engine.sln'
$cli = 'tools/Mistral.C2F.Cli'

function Invoke-Step([string] $title, [scriptblock] $step) {
    Write-Host "==> $title" -ForegroundColor Cyan
    & $step
    if ($LASTEXITCODE -ne 0) { throw "$title failed with exit code $LASTEXITCODE" }
}

# Everything that needs an NVIDIA GPU, in one go: the CUDA and ILGPU tests on the device, compute-sanitizer on a
# few small kernel test classes, the kernel benchmarks with PyTorch's times beside them when torch has CUDA, and
# whole training steps on each GPU backend.
function Invoke-GpuCheck {
    foreach ($tool in 'nvidia-smi', 'nvcc', 'compute-sanitizer') {
        if (-not (Get-Command $tool -ErrorAction SilentlyContinue)) {
            throw "gpu-check needs an NVIDIA GPU with the CUDA toolkit: '$tool' is not on PATH"
        }
    }
    Invoke-Step 'GPU (nvidia-smi; needs an NVIDIA GPU and its driver)' { nvidia-smi --query-gpu=name,compute_cap --format=csv }
    $card = (nvidia-smi --query-gpu=name --format=csv,noheader | Select-Object -First 1).Trim()
    if (-not $card) { throw 'gpu-check: nvidia-smi lists no GPU' }
    $slug = ($card.ToLowerInvariant() -replace '[^a-z0-9]+', '-').Trim('-')

    # nvcc on PATH: the project builds the PTX and embeds it.
    Invoke-Step 'build (Release, PTX by nvcc)' { dotnet build $solution -c Release }
    Invoke-Step 'CUDA kernel tests on the GPU' { dotnet test tests/Mistral.C2F.Engine.Cuda.Tests -c Release --no-build --filter Backend=cuda }
    Invoke-Step 'ILGPU tests on the GPU' { dotnet test tests/Mistral.C2F.Engine.Ilgpu.Tests -c Release --no-build --filter Backend=cuda }

    # The test assembly is an xunit v3 executable: -trait and -class select what runs under the sanitizer.
    $tests = 'tests/Mistral.C2F.Engine.Cuda.Tests/bin/Release/net10.0/Mistral.C2F.Engine.Cuda.Tests'
    $classes = 'CudaRmsNormKernelTests', 'CudaElementwiseKernelTests', 'CudaReductionKernelTests', 'CudaRopeKernelTests', 'CudaLogProbKernelTests'
    $filter = @('-trait', 'Backend=cuda') + ($classes | ForEach-Object { '-class', "Mistral.C2F.Engine.Cuda.Tests.Kernels.$_" })
    Invoke-Step 'compute-sanitizer memcheck' { compute-sanitizer --tool memcheck --error-exitcode 1 $tests @filter }

    $work = 'runs/gpu-check'
    New-Item -ItemType Directory -Force $work | Out-Null
    $plan, $peers, $report = "$work/plan.json", "$work/peers.json", "docs/perf/gpu-check-$slug.md"
    $bench = @('run', '-c', 'Release', '--no-build', '--project', $cli, '--', 'bench', '--mode', 'kernels', '--backend', 'cuda')
    Invoke-Step 'kernel benchmarks (plan)' { dotnet @bench --plan-out $plan }
    $torch = $false
    if (Get-Command python3 -ErrorAction SilentlyContinue) {
        python3 -c 'import torch; assert torch.cuda.is_available()' 2>$null
        $torch = $LASTEXITCODE -eq 0
    }
    if ($torch) {
        Invoke-Step 'PyTorch peers' { python3 tools/gpu-check/torch_peers.py $plan $peers }
        Invoke-Step 'kernel benchmarks with PyTorch peers' { dotnet @bench --peers $peers --report $report }
    } else {
        Write-Host 'no PyTorch with CUDA (python3 -c "import torch; assert torch.cuda.is_available()" failed): the vs-PyTorch column stays empty' -ForegroundColor Yellow
        Invoke-Step 'kernel benchmarks' { dotnet @bench --report $report }
    }
    # Whole training steps and decode steps on the GPU (float32 kernels, mixed precision, ILGPU), appended to the report.
    foreach ($run in @(@('train', 8, 1024), @('decode', 8, 256))) {
        $mode, $batch, $seq = $run
        foreach ($backend in 'cuda', 'cuda-bf16', 'ilgpu') {
            Invoke-Step "$mode step, small preset, $backend" {
                $output = dotnet run -c Release --no-build --project $cli -- bench --mode $mode --preset small --batch $batch --seq $seq --backend $backend 2>&1 | Out-String
                Write-Host $output
                Add-Content $report "`n### $mode step, small preset, batch $batch × $seq, --backend $backend`n`n``````text`n$($output.TrimEnd())`n```````n"
            }
        }
    }
    Write-Host "==> report: $report" -ForegroundColor Cyan
}

switch ($Verb) {
    'build' { Invoke-Step 'build (Release)' { dotnet build $solution -c Release } }
    # The CUDA kernels alone: PTX for sm_80/sm_90 (where nvcc exists) and the CPU emulator library (where g++ or clang++ does).
    'kernels' { Invoke-Step 'kernels (PTX + emulator)' { dotnet build src/Mistral.C2F.Engine.Cuda -c Release } }
    'test' {
        $arguments = @('test', $solution, '-c', 'Release')
        if ($Filter) { $arguments += @('--filter', $Filter) }
        Invoke-Step 'test' { dotnet @arguments }
    }
    'bench' {
        Invoke-Step 'benchmarks' { dotnet run -c Release --project benchmarks/Mistral.C2F.Benchmarks -- --filter $Benchmarks }
    }
    'demo' { Invoke-Step 'demo' { dotnet run -c Release --project $cli -- demo --out runs/demo } }
    'gpu-check' { Invoke-GpuCheck }
    'clean' {
        Get-ChildItem -Recurse -Directory -Include bin, obj | Remove-Item -Recurse -Force
        Remove-Item -Recurse -Force BenchmarkDotNet.Artifacts, runs -ErrorAction SilentlyContinue
    }
}
