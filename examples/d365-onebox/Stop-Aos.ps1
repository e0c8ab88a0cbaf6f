. "$PSScriptRoot\Common.ps1"
$id = $env:MAINTENANCE_AOS_ID
if (-not $AosServices.ContainsKey($id)) { [Console]::Error.WriteLine("unknown AOS $id (aos, batch)"); exit 3 }
$AosServices[$id] | ForEach-Object { Stop-Service -Name $_ -Force -ErrorAction SilentlyContinue }
