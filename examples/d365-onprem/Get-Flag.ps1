. "$PSScriptRoot\Common.ps1"
Write-Json @{ configurationMode = [int]((Get-ConfigurationMode) -eq 1) }
