# Turns administration mode on (MAINTENANCE_FLAG=1) or off (0), and returns once the platform reports
# the new state. The change takes minutes: it is requested without waiting, then polled, a progress
# line on stderr each time, while the worker heartbeats the activity. Background operations (batch,
# asynchronous jobs) follow PPAC_BACKGROUND_OPERATIONS, Enabled or Disabled (the admin center's
# checkbox). Writing the state already there does nothing: the activity may run it again.
. "$PSScriptRoot\Common.ps1"
if ($env:MAINTENANCE_FLAG -notin @('0', '1')) { [Console]::Error.WriteLine('MAINTENANCE_FLAG must be 0 or 1'); exit 2 }
$target = if ($env:MAINTENANCE_FLAG -eq '1') { 'AdminMode' } else { 'Enabled' }
$background = if ($env:PPAC_BACKGROUND_OPERATIONS) { $env:PPAC_BACKGROUND_OPERATIONS } else { 'Enabled' }
Connect-PowerPlatform
if ((Get-RuntimeState) -eq $target) { exit 0 }
try {
  Set-AdminPowerAppEnvironmentRuntimeState -EnvironmentName $env:PPAC_ENVIRONMENT_ID -RuntimeState $target `
    -BackgroundOperationsState $background -WaitUntilFinished $false | Out-Null
} catch { Exit-WithError "set $target on $($env:PPAC_ENVIRONMENT_ID)" $_ }
# Ends before the command's timeout kills it, so that the attempt ends as "try again" (75), not killed.
$deadline = (Get-Date).AddMinutes([int]$(if ($env:PPAC_WAIT_MINUTES) { $env:PPAC_WAIT_MINUTES } else { 25 }))
$began = Get-Date
while (($state = Get-RuntimeState) -ne $target) {
  if ((Get-Date) -gt $deadline) {
    [Console]::Error.WriteLine("$($env:PPAC_ENVIRONMENT_ID) is still $state, not $target, after $([int]((Get-Date) - $began).TotalMinutes) min")
    exit 75
  }
  [Console]::Error.WriteLine("$($env:PPAC_ENVIRONMENT_ID): $state, waiting for $target ($([int]((Get-Date) - $began).TotalSeconds) s)")
  Start-Sleep -Seconds 15
}
