# Whether MAINTENANCE_USER may sign in on the AOS in the mode it runs in: in maintenance mode only
# administrators and Maintenance mode users may. (An interactive sign-in needs Microsoft Entra ID.)
. "$PSScriptRoot\Common.ps1"
$aos = (& "$PSScriptRoot\Get-Aos.ps1" | ConvertFrom-Json) | Where-Object { $_.id -eq $env:MAINTENANCE_AOS_ID }
if ($aos.status -ne 'running') { Write-Json @{ allowed = $false; detail = "$($env:MAINTENANCE_AOS_ID) is not running" }; exit 0 }
$roles = @(Invoke-AxDb @'
SELECT r.AOTNAME FROM SECURITYUSERROLE ur JOIN SECURITYROLE r ON r.RECID = ur.SECURITYROLE
JOIN USERINFO u ON u.ID = ur.USER_ WHERE u.ID = @User AND u.ENABLE = 1
'@ @{ User = $env:MAINTENANCE_USER } | ForEach-Object { $_.AOTNAME })
$allowed = -not $aos.maintenanceMode -or ($roles -contains '-SYSADMIN-') -or ($roles -contains 'SysMaintenanceModeUser')
Write-Json @{ allowed = $allowed; detail = "$($env:MAINTENANCE_USER) $(if ($allowed) { 'may sign in' } else { 'is refused' }) on $($env:MAINTENANCE_AOS_ID)" }
