# Who works on the environment now, for `maint plan` and approval requests: users with an active session
# (SYSCLIENTSESSIONS, by their USERINFO names) and batch jobs executing or due by MAINTENANCE_UNTIL
# (BATCHJOB; BatchStatus 2 executing, 1 waiting). Every value goes in as a parameter.
. "$PSScriptRoot\Common.ps1"
$until = [DateTime]::Parse($env:MAINTENANCE_UNTIL, [Globalization.CultureInfo]::InvariantCulture,
  [Globalization.DateTimeStyles]::AdjustToUniversal)
$sessions = @'
SELECT MIN(COALESCE(u.NAME, s.USERID)) AS NAME FROM SYSCLIENTSESSIONS s LEFT JOIN USERINFO u ON u.ID = s.USERID
WHERE s.STATUS = @Running GROUP BY s.USERID ORDER BY MIN(s.LOGINDATETIME)
'@
$jobs = @'
SELECT CAPTION, STATUS, ORIGSTARTDATETIME FROM BATCHJOB
WHERE STATUS = @Executing OR (STATUS = @Waiting AND ORIGSTARTDATETIME <= @Until) ORDER BY STATUS DESC, ORIGSTARTDATETIME
'@
$names = @(Invoke-AxDb $sessions @{ Running = 1 } | ForEach-Object { $_.NAME })
$due = @(Invoke-AxDb $jobs @{ Executing = 2; Waiting = 1; Until = $until } | ForEach-Object {
    if ($_.STATUS -eq 2) { @{ name = $_.CAPTION; status = 'executing' } }
    else {
      # AxDB keeps times in UTC.
      $startsAt = [DateTime]::SpecifyKind($_.ORIGSTARTDATETIME, [DateTimeKind]::Utc).ToString('o')
      @{ name = $_.CAPTION; status = 'waiting'; startsAt = $startsAt }
    }
  })
Write-Json @{ users = @{ count = $names.Count; names = @($names | Select-Object -First 5) }; batchJobs = $due }
