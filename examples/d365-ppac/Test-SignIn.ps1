# Whether MAINTENANCE_USER may sign in in the state the environment is in: during administration mode only
# System Administrators and System Customizers may. Read from Dataverse (the user and their security
# roles) as the service principal's application user; an interactive sign-in needs Microsoft Entra ID.
. "$PSScriptRoot\Common.ps1"
Connect-PowerPlatform
$state = Get-RuntimeState
if ($state -notin @('Enabled', 'AdminMode')) { Write-Json @{ allowed = $false; detail = "the environment is $state" }; exit 0 }
try {
  $token = (Invoke-RestMethod -Method Post -Uri "https://login.microsoftonline.com/$($env:PPAC_TENANT_ID)/oauth2/v2.0/token" -Body @{
    grant_type = 'client_credentials'; client_id = $env:PPAC_CLIENT_ID; client_secret = $env:PPAC_CLIENT_SECRET
    scope = "$($env:DATAVERSE_URL.TrimEnd('/'))/.default"
  }).access_token
  # The name goes into an OData string literal: its quotes doubled, then the whole filter URL-encoded.
  $filter = [uri]::EscapeDataString("domainname eq '$($env:MAINTENANCE_USER -replace "'", "''")'")
  $users = (Invoke-RestMethod -Headers @{ Authorization = "Bearer $token" } -Uri (
    "$($env:DATAVERSE_URL.TrimEnd('/'))/api/data/v9.2/systemusers?`$select=isdisabled&`$filter=$filter" +
    '&$expand=systemuserroles_association($select=name)')).value
} catch { Exit-WithError "Dataverse at $($env:DATAVERSE_URL)" $_ }
$user = $users | Where-Object { -not $_.isdisabled } | Select-Object -First 1
$roles = @($user.systemuserroles_association | ForEach-Object { $_.name })
$allowed = [bool]$user -and ($state -ne 'AdminMode' -or $roles -contains 'System Administrator' -or $roles -contains 'System Customizer')
Write-Json @{ allowed = $allowed; detail = "$($env:MAINTENANCE_USER) $(if ($allowed) { 'may sign in' } else { 'is refused' }) ($state)" }
