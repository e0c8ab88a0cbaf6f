# The environment's hooks (temporal.yaml `hooks`), told apart by MAINTENANCE_HOOK:
#   beforeEnable  refuses (exit 1: the enable is refused, nothing changed) while a batch job executes,
#                 else tells the users
#   afterDisable  tells the users they can sign in again
# Batch runs on the AOS nodes of BATCH_NODES, which the enable and disable stop and restart themselves.
. "$PSScriptRoot\Common.ps1"
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
  'afterDisable' { Send-Notice "$env:MAINTENANCE_ENVIRONMENT is out of maintenance mode: you can sign in again." }
  default { [Console]::Error.WriteLine("no hook $env:MAINTENANCE_HOOK in Invoke-Hook.ps1"); exit 2 }
}
