. "$PSScriptRoot\Common.ps1"
Connect-Cluster
$batch = $env:BATCH_NODES -split ',' | ForEach-Object { $_.Trim() }
$startedWith = Read-StartedWith
$list = foreach ($node in Get-ServiceFabricNode | Where-Object NodeType -eq $env:AOS_NODE_TYPE) {
  $code = Get-ServiceFabricDeployedCodePackage -NodeName $node.NodeName -ApplicationName $App -ErrorAction SilentlyContinue
  $status = if ($node.NodeStatus -eq 'Disabling') { 'stopping' }
    elseif ($node.NodeStatus -ne 'Up' -or -not $code) { 'stopped' }
    elseif ($code.CodePackageStatus -eq 'Active') { 'running' }
    else { 'starting' }
  @{ id = $node.NodeName; role = if ($batch -contains $node.NodeName) { 'batch' } else { 'interactive' }; status = $status
     maintenanceMode = if ($status -eq 'running' -and $startedWith.ContainsKey($node.NodeName)) { [bool]$startedWith[$node.NodeName] } else { $null } }
}
Write-Json @($list)
