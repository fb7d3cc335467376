#!/usr/bin/env pwsh
# Build entry point. On a fresh machine: `dotnet tool restore && dotnet pwsh build.ps1 <verb>`.
[CmdletBinding()]
param(
    [Parameter(Position = 0)]
    [ValidateSet('build', 'kernels', 'test', 'bench', 'demo', 'clean')]
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
    'clean' {
        Get-ChildItem -Recurse -Directory -Include bin, obj | Remove-Item -Recurse -Force
        Remove-Item -Recurse -Force BenchmarkDotNet.Artifacts, runs -ErrorAction SilentlyContinue
    }
}
