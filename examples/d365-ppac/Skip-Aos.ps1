# AOS control of a Power Platform environment: a no-op. Microsoft runs the AOS, and administration mode
# takes effect without a restart. The plan shows this command with its reason; it changes nothing.
param([string]$Because)
[Console]::Error.WriteLine("$($env:MAINTENANCE_AOS_ID): nothing to do ($Because)")
