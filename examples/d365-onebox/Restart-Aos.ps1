# Stops the AOS's services, starts them again (they read CONFIGURATIONMODE as they start), then waits
# until the AOS answers; remembers which flag it started with.
. "$PSScriptRoot\Common.ps1"
$id = $env:MAINTENANCE_AOS_ID
if (-not $AosServices.ContainsKey($id)) { [Console]::Error.WriteLine("unknown AOS $id (aos, batch)"); exit 3 }
$flag = (Invoke-AxDb "SELECT VALUE FROM SQLSYSTEMVARIABLES WHERE PARM = 'CONFIGURATIONMODE'").VALUE
try {
  $AosServices[$id] | ForEach-Object { Stop-Service -Name $_ -Force -ErrorAction SilentlyContinue }
  $AosServices[$id] | ForEach-Object { Start-Service -Name $_ }
} catch {
  [Console]::Error.WriteLine("starting $id failed: $($_.Exception.Message)")
  exit 75
}
if ($id -eq 'aos') {
  # IIS answers before the AOS has loaded its metadata: wait for the health page.
  $deadline = (Get-Date).AddMinutes(10)
  do {
    Start-Sleep -Seconds 5
    try { $ok = (Invoke-WebRequest -Uri "$env:AOS_URL/ServiceHealth" -UseBasicParsing -SkipCertificateCheck).StatusCode -eq 200 } catch { $ok = $false }
  } until ($ok -or (Get-Date) -gt $deadline)
  if (-not $ok) { [Console]::Error.WriteLine('the AOS did not answer within 10 minutes'); exit 75 }
}
$startedWith = if (Test-Path $StartedWith) { Get-Content $StartedWith -Raw | ConvertFrom-Json -AsHashtable } else { @{} }
$startedWith[$id] = [int]$flag -eq 1
New-Item -ItemType Directory -Force (Split-Path $StartedWith) | Out-Null
$startedWith | ConvertTo-Json | Set-Content $StartedWith
