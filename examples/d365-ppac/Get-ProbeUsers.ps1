# The users the sign-in probe tries, by their sign-in names (UPN): a System Administrator, a System
# Customizer (both may sign in during administration mode) and a user with neither role. Each is optional.
$users = @{}
if ($env:PPAC_PROBE_ADMINISTRATOR) { $users.administrator = $env:PPAC_PROBE_ADMINISTRATOR }
if ($env:PPAC_PROBE_MAINTENANCE_USER) { $users.maintenanceUser = $env:PPAC_PROBE_MAINTENANCE_USER }
if ($env:PPAC_PROBE_REGULAR_USER) { $users.regularUser = $env:PPAC_PROBE_REGULAR_USER }
$users | ConvertTo-Json -Compress
