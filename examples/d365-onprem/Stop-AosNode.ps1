# Stops the AOS on a node by disabling the node (Service Fabric moves the AXSF instance off it).
. "$PSScriptRoot\Common.ps1"
Connect-Cluster
$id = $env:MAINTENANCE_AOS_ID
if (-not (Get-ServiceFabricNode -NodeName $id -ErrorAction SilentlyContinue)) { [Console]::Error.WriteLine("no Service Fabric node $id"); exit 3 }
Disable-ServiceFabricNode -NodeName $id -Intent Restart -Force | Out-Null
