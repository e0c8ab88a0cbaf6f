# The flag by the deployment setup tool, as Enable-D365MaintenanceMode -UseSetupTool runs it.
param([Parameter(Mandatory)][string]$SqlPassword, [string]$SqlUser = 'axdbadmin')
$ErrorActionPreference = 'Stop'
$packages = Join-Path $env:AOS_SERVICE_DIR 'PackagesLocalDirectory'
$setup = Join-Path $packages 'Bin\Microsoft.Dynamics.AX.Deployment.Setup.exe'
$on = if ($env:MAINTENANCE_FLAG -eq '1') { 'true' } else { 'false' }
& $setup --metadatadir $packages --bindir (Join-Path $packages 'Bin') --sqlserver $env:AXDB_SERVER `
  --sqldatabase $env:AXDB_NAME --sqluser $SqlUser --sqlpwd $SqlPassword `
  --setupmode maintenancemode --isinmaintenancemode $on
exit $LASTEXITCODE
