. "$PSScriptRoot\Common.ps1"
if ($env:MAINTENANCE_FLAG -notin @('0', '1')) { [Console]::Error.WriteLine('MAINTENANCE_FLAG must be 0 or 1'); exit 2 }
Invoke-AxDb 'UPDATE SQLSYSTEMVARIABLES SET VALUE = @Flag WHERE PARM = @Parm' @{ Flag = [int]$env:MAINTENANCE_FLAG; Parm = 'CONFIGURATIONMODE' } | Out-Null
