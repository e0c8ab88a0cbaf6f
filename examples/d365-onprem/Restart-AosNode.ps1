# Brings the node back if it was disabled, restarts the AXSF code package on it (the AOS reads
# CONFIGURATIONMODE as it starts), waits until it is active; remembers which flag it started with.
. "$PSScriptRoot\Common.ps1"
Connect-Cluster
$id = $env:MAINTENANCE_AOS_ID
$node = Get-ServiceFabricNode -NodeName $id -ErrorAction SilentlyContinue
if (-not $node) { [Console]::Error.WriteLine("no Service Fabric node $id"); exit 3 }
$flag = Get-ConfigurationMode
if ($node.NodeStatus -ne 'Up') { Enable-ServiceFabricNode -NodeName $id | Out-Null }
$deadline = (Get-Date).AddMinutes(15)
do { Start-Sleep -Seconds 5; $code = Get-ServiceFabricDeployedCodePackage -NodeName $id -ApplicationName $App -ErrorAction SilentlyContinue }
until ($code -or (Get-Date) -gt $deadline)
if (-not $code) { [Console]::Error.WriteLine("the AOS did not come back on $id"); exit 75 }
try {
  Restart-ServiceFabricDeployedCodePackage -NodeName $id -ApplicationName $App -ServiceManifestName $code.ServiceManifestName `
    -CodePackageName $code.CodePackageName -CommandCompletionMode Verify | Out-Null
} catch { [Console]::Error.WriteLine("restarting the AOS on ${id}: $($_.Exception.Message)"); exit 75 }
do { Start-Sleep -Seconds 5; $code = Get-ServiceFabricDeployedCodePackage -NodeName $id -ApplicationName $App }
until ($code.CodePackageStatus -eq 'Active' -or (Get-Date) -gt $deadline)
if ($code.CodePackageStatus -ne 'Active') { [Console]::Error.WriteLine("the AOS on $id is $($code.CodePackageStatus)"); exit 75 }
$startedWith = Read-StartedWith
$startedWith[$id] = $flag -eq 1
Save-StartedWith $startedWith
