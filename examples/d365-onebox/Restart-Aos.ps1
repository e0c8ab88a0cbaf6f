# Stops the AOS's services, starts them again (they read CONFIGURATIONMODE as they start), then waits
# until the AOS answers; remembers which flag it started with.
. "$PSScriptRoot\Common.ps1"
$id = $env:MAINTENANCE_AOS_ID
if (-not $AosServices.ContainsKey($id)) { [Console]::Error.WriteLine("unknown AOS $id (aos, batch)"); exit 3 }
$flag = Get-ConfigurationMode
try {
  $AosServices[$id] | ForEach-Object { Stop-Service -Name $_ -Force -ErrorAction SilentlyContinue }
  $AosServices[$id] | ForEach-Object { Start-Service -Name $_ }
} catch {
  [Console]::Error.WriteLine("starting $id failed: $($_.Exception.Message)")
  exit 75
}
if ($id -eq 'aos') {
  # IIS answers before the AOS has loaded its metadata: wait for the health page. Its certificate is
  # checked; AOS_SKIP_CERTIFICATE_CHECK=1 skips that, an opt-in for one this host does not trust (docs/real-environments.md).
  $health = @{ Uri = "$env:AOS_URL/ServiceHealth"; UseBasicParsing = $true; SkipCertificateCheck = $env:AOS_SKIP_CERTIFICATE_CHECK -eq '1' }
  $deadline = (Get-Date).AddMinutes(10)
  do {
    Start-Sleep -Seconds 5
    try { $ok = (Invoke-WebRequest @health).StatusCode -eq 200 } catch { $ok = $false }
  } until ($ok -or (Get-Date) -gt $deadline)
  if (-not $ok) { [Console]::Error.WriteLine('the AOS did not answer within 10 minutes'); exit 75 }
}
$startedWith = Read-StartedWith
$startedWith[$id] = $flag -eq 1
Save-StartedWith $startedWith
