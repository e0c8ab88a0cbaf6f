# Shared by the scripts: the Power Platform admin API as the service principal, the environment's
# runtime state, JSON output, and the exit codes the command driver reads: 0 done, 75 (EX_TEMPFAIL)
# try again later, else final.
$ErrorActionPreference = 'Stop'
Import-Module Microsoft.PowerApps.Administration.PowerShell -ErrorAction Stop

function Write-Json($Value) { $Value | ConvertTo-Json -Compress -Depth 5 }

# Throttling (429), the service's own failures (5xx) and a network without an answer are worth another
# attempt; a refusal (a right missing, an unknown environment: 4xx) is not.
function Exit-WithError([string]$Doing, $ErrorRecord) {
  $status = $ErrorRecord.Exception.Response.StatusCode.value__
  [Console]::Error.WriteLine("${Doing}: $($ErrorRecord.Exception.Message)")
  exit $(if ($null -eq $status -or $status -eq 429 -or $status -ge 500) { 75 } else { 1 })
}

# The service principal (an app registration with a client secret, registered once by a tenant
# administrator with New-PowerAppManagementApp), never a person's account.
function Connect-PowerPlatform {
  try {
    Add-PowerAppsAccount -Endpoint prod -TenantID $env:PPAC_TENANT_ID -ApplicationId $env:PPAC_CLIENT_ID `
      -ClientSecret $env:PPAC_CLIENT_SECRET | Out-Null
  } catch { Exit-WithError 'sign-in of the service principal' $_ }
}

# Enabled, AdminMode (administration mode), Disabled or Warning, as the admin center shows it.
function Get-RuntimeState {
  try {
    $environment = Get-AdminPowerAppEnvironment -EnvironmentName $env:PPAC_ENVIRONMENT_ID
  } catch { Exit-WithError "environment $($env:PPAC_ENVIRONMENT_ID)" $_ }
  if (-not $environment) {
    [Console]::Error.WriteLine("environment $($env:PPAC_ENVIRONMENT_ID) is not visible to the service principal")
    exit 1
  }
  "$($environment.Internal.properties.states.runtime.id)"
}
