# The environment's hooks (temporal.yaml `hooks`), told apart by MAINTENANCE_HOOK:
#   beforeEnable  refuses (exit 1: the enable is refused, nothing changed) while a batch job executes,
#                 else tells the users
#   afterEnable   stops batch, data import (DIXF) and Management Reporter, so they stay down while in
#                 maintenance: after, because the enable restarts the AOS services, these among them
#   afterDisable  starts them again (the disable's restarts usually have) and tells the users
. "$PSScriptRoot\Common.ps1"
$Background = @('DynamicsAxBatch', 'Microsoft.Dynamics.AX.Framework.Tools.DMF.SSISHelperService.exe', 'MR2012ProcessService')
$by = "requested by $env:MAINTENANCE_REQUESTED_BY$(if ($env:MAINTENANCE_REASON) { ": $env:MAINTENANCE_REASON" })"
switch ($env:MAINTENANCE_HOOK) {
  'beforeEnable' {
    $running = Get-ExecutingBatchJobs
    if ($running.Count -gt 0) {
      [Console]::Error.WriteLine("batch jobs still executing: $($running -join ', '); wait for them or cancel them")
      exit 1
    }
    Send-Notice "$env:MAINTENANCE_ENVIRONMENT goes into maintenance mode now ($by). Save your work and sign out."
  }
  'afterEnable' { $Background | ForEach-Object { Stop-Service -Name $_ -Force -ErrorAction SilentlyContinue } }
  'afterDisable' {
    $Background | ForEach-Object { Start-Service -Name $_ }
    Send-Notice "$env:MAINTENANCE_ENVIRONMENT is out of maintenance mode: you can sign in again."
  }
  default { [Console]::Error.WriteLine("no hook $env:MAINTENANCE_HOOK in Invoke-Hook.ps1"); exit 2 }
}
