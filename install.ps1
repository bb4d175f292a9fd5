# Installs tunnel.exe from a GitHub release of this project, after checking it
# against the release's SHA256SUMS. Windows on x64 (and arm64, through Windows 11's
# x64 emulation); Linux and macOS have install.sh.
#
#   irm https://github.com/OWNER/NAME/releases/latest/download/install.ps1 | iex
#   & ([scriptblock]::Create((irm https://github.com/OWNER/NAME/releases/latest/download/install.ps1))) -Tag v0.2.0
#
# Parameters: -Tag TAG (or the first positional argument), -PreRelease, -Prefix DIR
# (default %LOCALAPPDATA%\tunnel\bin), -DryRun.
# Environment: TUNNEL_REPO=owner/name overrides the stamp below; TUNNEL_RELEASES_API
# and TUNNEL_DOWNLOAD_BASE override the base URLs of the releases API and the assets.
# Plain parameters (no [Parameter()]): the first one, -Tag, is also positional.
param(
  [string]$Tag = '',
  [switch]$PreRelease,
  [string]$Prefix = '',
  [switch]$DryRun
)

# The release workflow writes owner/name here (scripts/release_assets.ts).
$StampedRepo = '__TUNNEL_REPOSITORY__'

# Windows architecture (as .NET names it) -> release binary; scripts/release_targets.ts
# is the list these must match. Deno cannot build for arm64 Windows, which runs x64.
$WindowsAssets = @{
  'X64'   = 'tunnel-windows-x64.exe'
  'Arm64' = 'tunnel-windows-x64.exe'
}

function Get-TunnelAsset {
  if ($PSVersionTable.PSEdition -eq 'Core' -and -not $IsWindows) {
    throw 'install.ps1 is for Windows; on Linux and macOS use install.sh'
  }
  $arch = $null
  try {
    $arch = [System.Runtime.InteropServices.RuntimeInformation]::OSArchitecture.ToString()
  } catch {
    # .NET Framework before 4.7.1: ask the environment (a 32-bit shell on a
    # 64-bit Windows sees x86 in PROCESSOR_ARCHITECTURE, the truth in W6432).
    $arch = $env:PROCESSOR_ARCHITEW6432
    if (-not $arch) { $arch = $env:PROCESSOR_ARCHITECTURE }
    if ($arch -eq 'AMD64') { $arch = 'X64' }
  }
  if (-not $arch -or -not $WindowsAssets.ContainsKey($arch)) {
    throw "unsupported platform windows/$arch`: install.ps1 supports windows-x64 and windows-arm64 (Linux and macOS: install.sh)"
  }
  return $WindowsAssets[$arch]
}

function Get-TunnelRepository {
  $repo = $StampedRepo
  if ($env:TUNNEL_REPO) { $repo = $env:TUNNEL_REPO }
  if ($repo -notlike '*/*') {
    throw 'no repository to install from: set TUNNEL_REPO=owner/name ($env:TUNNEL_REPO = ''owner/name'')'
  }
  if ($repo -notmatch '^[A-Za-z0-9._-]+/[A-Za-z0-9._-]+$') {
    throw "TUNNEL_REPO is not owner/name: $repo"
  }
  return $repo
}

function Invoke-ReleasesApi([string]$Url) {
  $headers = @{ 'Accept' = 'application/vnd.github+json' }
  return Invoke-RestMethod -Uri $Url -Headers $headers -UseBasicParsing
}

function Resolve-TunnelTag([string]$Api, [string]$Repo) {
  if ($Tag) {
    try { $release = Invoke-ReleasesApi "$Api/tags/$Tag" } catch {
      throw "cannot find release $Tag of $Repo at $Api/tags/$Tag"
    }
    if ($release.tag_name -ne $Tag) {
      throw "the releases API answered $Api/tags/$Tag with no release $Tag"
    }
    return $Tag
  }
  if ($PreRelease) {
    try { $releases = Invoke-ReleasesApi "$Api`?per_page=100" } catch {
      throw "cannot list the releases of $Repo at $Api"
    }
    # foreach, not the pipeline: Windows PowerShell passes a JSON array down a
    # pipeline as one object.
    foreach ($release in $releases) {
      if ($release.prerelease) { return [string]$release.tag_name }
    }
    throw "$Repo has no prerelease (among its newest 100 releases)"
  }
  try { $release = Invoke-ReleasesApi "$Api/latest" } catch {
    throw "cannot find the latest release of $Repo at $Api/latest"
  }
  if (-not $release.tag_name) { throw "the releases API answered $Api/latest with no release" }
  return [string]$release.tag_name
}

function Get-ExpectedHash([string]$SumsFile, [string]$Asset) {
  foreach ($line in Get-Content -LiteralPath $SumsFile) {
    if ($line -match '^([0-9A-Fa-f]{64}) [ *](.+)$' -and $Matches[2].Trim() -eq $Asset) {
      return $Matches[1].ToLowerInvariant()
    }
  }
  return $null
}

function Test-OnUserPath([string]$Dir) {
  $entries = @([Environment]::GetEnvironmentVariable('Path', 'User') -split ';') +
    @($env:Path -split ';')
  foreach ($entry in $entries) {
    if ($entry -and $entry.TrimEnd('\') -ieq $Dir.TrimEnd('\')) { return $true }
  }
  return $false
}

function Install-Tunnel {
  # Set here, not at the top: run through iex, the top level is the user's own
  # session, which these must not outlive.
  $ErrorActionPreference = 'Stop'
  # The progress bar slows Invoke-WebRequest down many times over in Windows PowerShell.
  $ProgressPreference = 'SilentlyContinue'
  if ($Tag -and $PreRelease) { throw 'give a tag or -PreRelease, not both' }
  if ($Tag -and $Tag -notmatch '^[A-Za-z0-9._+-]+$') { throw "not a release tag: $Tag" }
  $asset = Get-TunnelAsset
  $repo = Get-TunnelRepository
  $api = if ($env:TUNNEL_RELEASES_API) { $env:TUNNEL_RELEASES_API } else {
    "https://api.github.com/repos/$repo/releases"
  }
  $api = $api.TrimEnd('/')
  $downloadBase = if ($env:TUNNEL_DOWNLOAD_BASE) { $env:TUNNEL_DOWNLOAD_BASE } else {
    "https://github.com/$repo/releases/download"
  }
  $downloadBase = $downloadBase.TrimEnd('/')
  $dir = $Prefix
  if (-not $dir) {
    if (-not $env:LOCALAPPDATA) { throw 'LOCALAPPDATA is not set: choose a directory with -Prefix DIR' }
    $dir = Join-Path $env:LOCALAPPDATA 'tunnel\bin'
  }
  # Relative to PowerShell's location, which .NET's current directory need not be.
  $dir = $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($dir)
  $target = Join-Path $dir 'tunnel.exe'

  $resolved = Resolve-TunnelTag $api $repo
  $binaryUrl = "$downloadBase/$resolved/$asset"
  $sumsUrl = "$downloadBase/$resolved/SHA256SUMS"

  if ($DryRun) {
    Write-Host 'tunnel-install: dry run: nothing is downloaded or changed'
    Write-Host "tunnel-install: would download $binaryUrl"
    Write-Host "tunnel-install: would check it against $sumsUrl"
    Write-Host "tunnel-install: would install tunnel $resolved ($asset) to $target"
    return
  }

  $tmp = Join-Path ([System.IO.Path]::GetTempPath()) ("tunnel-install-" + [guid]::NewGuid())
  New-Item -ItemType Directory -Path $tmp | Out-Null
  $staged = $null
  try {
    Write-Host "tunnel-install: downloading tunnel $resolved ($asset) from $binaryUrl"
    $binary = Join-Path $tmp $asset
    $sums = Join-Path $tmp 'SHA256SUMS'
    try { Invoke-WebRequest -Uri $binaryUrl -OutFile $binary -UseBasicParsing } catch {
      throw "cannot download $binaryUrl"
    }
    try { Invoke-WebRequest -Uri $sumsUrl -OutFile $sums -UseBasicParsing } catch {
      throw "cannot download $sumsUrl"
    }
    $expected = Get-ExpectedHash $sums $asset
    if (-not $expected) { throw "SHA256SUMS of $resolved has no line for $asset; nothing installed" }
    $actual = (Get-FileHash -Algorithm SHA256 -LiteralPath $binary).Hash.ToLowerInvariant()
    if ($actual -ne $expected) {
      throw "checksum mismatch for $asset`: SHA256SUMS says $expected, the download is $actual; nothing installed"
    }

    New-Item -ItemType Directory -Force -Path $dir | Out-Null
    # Staged beside the target so the swap is a rename within one volume.
    $staged = Join-Path $dir ".tunnel.install.$PID.exe"
    Copy-Item -LiteralPath $binary -Destination $staged -Force
    try {
      if (Test-Path -LiteralPath $target) {
        # [NullString]: PowerShell would pass $null to a string parameter as "".
        [System.IO.File]::Replace($staged, $target, [NullString]::Value)
      } else {
        [System.IO.File]::Move($staged, $target)
      }
    } catch {
      throw "cannot replace $target (is tunnel running? stop it and run this again): $($_.Exception.Message)"
    }
    $staged = $null
  } finally {
    if ($staged) { Remove-Item -LiteralPath $staged -Force -ErrorAction SilentlyContinue }
    Remove-Item -LiteralPath $tmp -Recurse -Force -ErrorAction SilentlyContinue
  }

  Write-Host "tunnel-install: installed tunnel $resolved ($asset) to $target (SHA-256 checked)"
  if (-not (Test-OnUserPath $dir)) {
    Write-Host "tunnel-install: $dir is not on your PATH; add it for your user with:"
    Write-Host "  [Environment]::SetEnvironmentVariable('Path', '$dir;' + [Environment]::GetEnvironmentVariable('Path', 'User'), 'User')"
    Write-Host 'tunnel-install: then open a new terminal'
  }
}

# Windows PowerShell 5.1 may not offer TLS 1.2 by default, which GitHub requires.
if ($PSVersionTable.PSEdition -ne 'Core') {
  [Net.ServicePointManager]::SecurityProtocol = [Net.ServicePointManager]::SecurityProtocol -bor
    [Net.SecurityProtocolType]::Tls12
}
try {
  Install-Tunnel
} catch {
  Write-Host "tunnel-install: $($_.Exception.Message)" -ForegroundColor Red
  # Run as a file (-File install.ps1), exit non-zero; run through iex or a script
  # block, do not close the user's shell: leave the failure in $LASTEXITCODE.
  if ($PSCommandPath) { exit 1 }
  $global:LASTEXITCODE = 1
}
