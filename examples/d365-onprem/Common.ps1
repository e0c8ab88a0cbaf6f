# Shared by the scripts: SQL on AXDB with SQL authentication, the Service Fabric cluster, JSON output,
# and the exit codes the command driver reads: 0 done, 75 (EX_TEMPFAIL) try again later, else final.
$ErrorActionPreference = 'Stop'
Import-Module SqlServer -ErrorAction Stop
Import-Module ServiceFabric -ErrorAction Stop

function Invoke-AxDb([string]$Query, [hashtable]$Variables = @{}) {
  $vars = $Variables.GetEnumerator() | ForEach-Object { "$($_.Key)=$($_.Value)" }
  try {
    Invoke-Sqlcmd -ServerInstance $env:AXDB_SERVER -Database $env:AXDB_NAME -Username $env:AXDB_USER `
      -Password $env:AXDB_PASSWORD -Query $Query -Variable $vars -TrustServerCertificate
  } catch {
    [Console]::Error.WriteLine("AXDB on ${env:AXDB_SERVER}: $($_.Exception.Message)")
    exit 75
  }
}

function Connect-Cluster {
  try {
    Connect-ServiceFabricCluster -ConnectionEndpoint $env:SF_ENDPOINT -X509Credential `
      -ServerCertThumbprint $env:SF_SERVER_CERT_THUMBPRINT -FindType FindByThumbprint `
      -FindValue $env:SF_CLIENT_CERT_THUMBPRINT -StoreLocation LocalMachine -StoreName My | Out-Null
  } catch {
    [Console]::Error.WriteLine("Service Fabric at ${env:SF_ENDPOINT}: $($_.Exception.Message)")
    exit 75
  }
}

function Write-Json($Value) { $Value | ConvertTo-Json -Compress -Depth 5 }

# What the flag was when an AOS node last started (kept by Restart-AosNode.ps1).
$StartedWith = Join-Path $env:ProgramData 'maintenance-orchestrator\started-with.json'
$App = 'fabric:/AXSF'
