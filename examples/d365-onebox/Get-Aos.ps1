. "$PSScriptRoot\Common.ps1"
$startedWith = Read-StartedWith
$list = foreach ($id in 'aos', 'batch') {
  $services = $AosServices[$id] | ForEach-Object { Get-Service -Name $_ -ErrorAction SilentlyContinue } | Where-Object { $_ }
  $statuses = @($services | ForEach-Object { "$($_.Status)" })
  $status = if ($statuses -contains 'StartPending') { 'starting' }
    elseif ($statuses -contains 'StopPending') { 'stopping' }
    elseif ($statuses.Count -gt 0 -and ($statuses | Where-Object { $_ -ne 'Running' }).Count -eq 0) { 'running' }
    else { 'stopped' }
  @{ id = $id; role = $AosRoles[$id]; status = $status
     maintenanceMode = if ($status -eq 'running' -and $startedWith.ContainsKey($id)) { [bool]$startedWith[$id] } else { $null } }
}
Write-Json @($list)
