# Microsoft runs the AOS of a Power Platform environment: there is nothing here to list, start or stop.
# The environment shows as one interactive and one batch instance, running while the environment is
# enabled, in maintenance mode while administration mode is on, so that the orchestrator's checks
# (exactly one of each in maintenance mode; all out of it after a disable) read what the platform says.
. "$PSScriptRoot\Common.ps1"
Connect-PowerPlatform
$state = Get-RuntimeState
$running = $state -in @('Enabled', 'AdminMode')
$list = foreach ($role in 'interactive', 'batch') {
  @{ id = "ppac-$role"; role = $role; status = if ($running) { 'running' } else { 'stopped' }
     maintenanceMode = if ($running) { $state -eq 'AdminMode' } else { $null } }
}
Write-Json @($list)
