# One enabled user of each kind: an administrator, a Maintenance mode user, and one with neither role.
. "$PSScriptRoot\Common.ps1"
$withRole = @'
SELECT TOP 1 u.ID FROM USERINFO u JOIN SECURITYUSERROLE ur ON ur.USER_ = u.ID
JOIN SECURITYROLE r ON r.RECID = ur.SECURITYROLE WHERE u.ENABLE = 1 AND r.AOTNAME = @Role ORDER BY u.ID
'@
$neither = @'
SELECT TOP 1 u.ID FROM USERINFO u WHERE u.ENABLE = 1 AND NOT EXISTS (SELECT 1 FROM SECURITYUSERROLE ur
JOIN SECURITYROLE r ON r.RECID = ur.SECURITYROLE WHERE ur.USER_ = u.ID AND r.AOTNAME IN (@Admin, @Maintenance)) ORDER BY u.ID
'@
$roles = @{ Admin = '-SYSADMIN-'; Maintenance = 'SysMaintenanceModeUser' }
Write-Json @{
  administrator   = (Invoke-AxDb $withRole @{ Role = $roles.Admin }).ID
  maintenanceUser = (Invoke-AxDb $withRole @{ Role = $roles.Maintenance }).ID
  regularUser     = (Invoke-AxDb $neither $roles).ID
}
