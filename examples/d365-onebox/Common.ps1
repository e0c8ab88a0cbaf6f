# Shared by the scripts: SQL on AxDB with Windows authentication, JSON output, and the exit codes the
# command driver reads: 0 done, 75 (EX_TEMPFAIL) try again later, anything else a final failure.
$ErrorActionPreference = 'Stop'
Import-Module SqlServer -ErrorAction Stop # Install-Module SqlServer (SQL Server PowerShell module)

function Invoke-AxDb([string]$Query, [hashtable]$Variables = @{}) {
  $vars = $Variables.GetEnumerator() | ForEach-Object { "$($_.Key)=$($_.Value)" }
  try {
    Invoke-Sqlcmd -ServerInstance $env:AXDB_SERVER -Database $env:AXDB_NAME -Query $Query -Variable $vars -TrustServerCertificate
  } catch {
    # The database is unreachable or locked: worth another attempt.
    [Console]::Error.WriteLine("AxDB on ${env:AXDB_SERVER}: $($_.Exception.Message)")
    exit 75
  }
}

function Write-Json($Value) { $Value | ConvertTo-Json -Compress -Depth 5 }

# The services of each AOS of a one-box, as d365fo.tools' Stop-D365Environment stops them.
$AosServices = @{
  aos   = @('W3SVC', 'MR2012ProcessService', 'Microsoft.Dynamics.AX.Framework.Tools.DMF.SSISHelperService.exe')
  batch = @('DynamicsAxBatch')
}
$AosRoles = @{ aos = 'interactive'; batch = 'batch' }
# What the flag was when an AOS last started: a running AOS read it then (kept by Restart-Aos.ps1).
$StartedWith = Join-Path $env:ProgramData 'maintenance-orchestrator\started-with.json'
