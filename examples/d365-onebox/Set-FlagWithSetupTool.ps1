# The flag by the deployment setup tool, as Enable-D365MaintenanceMode -UseSetupTool runs it.
# The SQL password comes in this script's environment (AXDB_PASSWORD, from the command's `env`), never
# as an argument. The setup tool itself takes it only as --sqlpwd, so it shows in that process's command
# line while the tool runs: where that matters, prefer Set-Flag.ps1 (Windows authentication).
param([string]$SqlUser = 'axdbadmin')
$ErrorActionPreference = 'Stop'
$SqlPassword = $env:AXDB_PASSWORD
if (-not $SqlPassword) { [Console]::Error.WriteLine('AXDB_PASSWORD is not set: give it in the command env'); exit 2 }
$packages = Join-Path $env:AOS_SERVICE_DIR 'PackagesLocalDirectory'
$setup = Join-Path $packages 'Bin\Microsoft.Dynamics.AX.Deployment.Setup.exe'
$on = if ($env:MAINTENANCE_FLAG -eq '1') { 'true' } else { 'false' }
& $setup --metadatadir $packages --bindir (Join-Path $packages 'Bin') --sqlserver $env:AXDB_SERVER `
  --sqldatabase $env:AXDB_NAME --sqluser $SqlUser --sqlpwd $SqlPassword `
  --setupmode maintenancemode --isinmaintenancemode $on
exit $LASTEXITCODE
