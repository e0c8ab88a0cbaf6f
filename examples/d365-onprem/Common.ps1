# Shared by the scripts: SQL on AXDB with SQL authentication, the Service Fabric cluster, JSON output,
# and the exit codes the command driver reads: 0 done, 75 (EX_TEMPFAIL) try again later, else final.
$ErrorActionPreference = 'Stop'
Import-Module ServiceFabric -ErrorAction Stop

# AXDB as AXDB_USER, a login with only the rights least-privilege.sql grants (never axdbadmin), over an
# encrypted connection whose server certificate is checked. AXDB_TRUST_SERVER_CERTIFICATE=1 trusts the
# certificate unchecked: an opt-in for a SQL Server with a self-signed certificate (docs/real-environments.md).
function New-AxDbConnection {
  $builder = [System.Data.SqlClient.SqlConnectionStringBuilder]::new()
  $builder['Data Source'] = $env:AXDB_SERVER
  $builder['Initial Catalog'] = $env:AXDB_NAME
  $builder['User ID'] = $env:AXDB_USER
  $builder['Password'] = $env:AXDB_PASSWORD
  $builder['Encrypt'] = $true
  $builder['TrustServerCertificate'] = $env:AXDB_TRUST_SERVER_CERTIFICATE -eq '1'
  [System.Data.SqlClient.SqlConnection]::new($builder.ConnectionString)
}

# Runs one SQL statement, its values passed as parameters (@Name), never spliced into its text, and
# returns its rows. System.Data.SqlClient ships with PowerShell 7: no module to install.
function Invoke-AxDb([string]$Query, [hashtable]$Parameters = @{}) {
  $connection = New-AxDbConnection
  try {
    $connection.Open()
    $command = $connection.CreateCommand()
    $command.CommandText = $Query
    foreach ($p in $Parameters.GetEnumerator()) { [void]$command.Parameters.AddWithValue("@$($p.Key)", $p.Value) }
    $reader = $command.ExecuteReader()
    $rows = [System.Data.DataTable]::new()
    if ($reader.FieldCount -gt 0) { $rows.Load($reader) }
    $reader.Dispose()
    $rows.Rows
  } catch [System.Data.SqlClient.SqlException] {
    [Console]::Error.WriteLine("AXDB on ${env:AXDB_SERVER}: $($_.Exception.Message)")
    # Permission denied (229, 230): a grant of least-privilege.sql is missing, and retrying will not help.
    # Anything else (unreachable, locked, a deadlock) is worth another attempt.
    exit $(if ($_.Exception.Number -in 229, 230) { 1 } else { 75 })
  } finally {
    $connection.Dispose()
  }
}

function Get-ConfigurationMode {
  [int](Invoke-AxDb 'SELECT VALUE FROM SQLSYSTEMVARIABLES WHERE PARM = @Parm' @{ Parm = 'CONFIGURATIONMODE' }).VALUE
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

# Tells the users, for the hooks (Invoke-Hook.ps1): a JSON {"text": ...} to NOTICE_WEBHOOK_URL (a Teams or
# Slack incoming webhook, a secret: hooks.env), its certificate checked. Without the URL, nobody is told.
function Send-Notice([string]$Text) {
  if (-not $env:NOTICE_WEBHOOK_URL) { return }
  try {
    Invoke-RestMethod -Method Post -Uri $env:NOTICE_WEBHOOK_URL -ContentType 'application/json' `
      -Body (Write-Json @{ text = $Text }) -TimeoutSec 30 | Out-Null
  } catch {
    [Console]::Error.WriteLine("notice not sent: $($_.Exception.Message)")
    exit 75
  }
}

# Batch jobs executing now: a before hook refuses maintenance while one runs (BatchStatus 2).
function Get-ExecutingBatchJobs {
  @(Invoke-AxDb 'SELECT CAPTION FROM BATCHJOB WHERE STATUS = @Executing' @{ Executing = 2 } | ForEach-Object { $_.CAPTION })
}

# What the flag was when each AOS node last started (a running AOS read it then), kept by
# Restart-AosNode.ps1 in the worker account's own profile: only that account, SYSTEM and the
# administrators may write there, so nobody else can make an AOS look as if it had started in another mode.
$StateDir = Join-Path ([Environment]::GetFolderPath('LocalApplicationData')) 'maintenance-orchestrator'
$StartedWith = Join-Path $StateDir 'started-with.json'
$App = 'fabric:/AXSF'

function Read-StartedWith {
  if (Test-Path $StartedWith) { Get-Content $StartedWith -Raw | ConvertFrom-Json -AsHashtable } else { @{} }
}

function Save-StartedWith([hashtable]$State) {
  if (-not (Test-Path $StateDir)) {
    New-Item -ItemType Directory $StateDir | Out-Null
    # Nothing inherited: full control for this account, SYSTEM (S-1-5-18) and Administrators (S-1-5-32-544) only.
    $acl = [System.Security.AccessControl.DirectorySecurity]::new()
    $acl.SetAccessRuleProtection($true, $false)
    foreach ($sid in [System.Security.Principal.WindowsIdentity]::GetCurrent().User, 'S-1-5-18', 'S-1-5-32-544') {
      $rule = [System.Security.AccessControl.FileSystemAccessRule]::new(
        [System.Security.Principal.SecurityIdentifier]$sid, 'FullControl', 'ContainerInherit, ObjectInherit', 'None', 'Allow')
      $acl.AddAccessRule($rule)
    }
    Set-Acl -Path $StateDir -AclObject $acl
  }
  $State | ConvertTo-Json | Set-Content $StartedWith
}
