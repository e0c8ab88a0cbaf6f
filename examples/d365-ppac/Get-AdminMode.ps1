# The flag of this profile: administration mode on is CONFIGURATIONMODE 1, off is 0.
. "$PSScriptRoot\Common.ps1"
Connect-PowerPlatform
Write-Json @{ configurationMode = if ((Get-RuntimeState) -eq 'AdminMode') { 1 } else { 0 } }
