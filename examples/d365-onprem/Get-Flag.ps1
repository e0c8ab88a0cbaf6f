. "$PSScriptRoot\Common.ps1"
$row = Invoke-AxDb "SELECT VALUE FROM SQLSYSTEMVARIABLES WHERE PARM = 'CONFIGURATIONMODE'"
Write-Json @{ configurationMode = [int]($row.VALUE -eq 1) }
