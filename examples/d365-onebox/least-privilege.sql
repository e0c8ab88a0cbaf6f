-- What the worker's Windows account needs on AxDB, and no more: read and set CONFIGURATIONMODE, read
-- users and their roles for the sign-in probe, and sessions and batch jobs for the impact preview and
-- the hooks (not db_owner). Run once as a database administrator, with the worker's account for
-- ONEBOX\maintenance-worker.
CREATE LOGIN [ONEBOX\maintenance-worker] FROM WINDOWS;
GO
USE AxDB;
CREATE USER [ONEBOX\maintenance-worker] FOR LOGIN [ONEBOX\maintenance-worker];
GRANT SELECT ON dbo.SQLSYSTEMVARIABLES TO [ONEBOX\maintenance-worker];
GRANT UPDATE ON dbo.SQLSYSTEMVARIABLES (VALUE) TO [ONEBOX\maintenance-worker];
GRANT SELECT ON dbo.USERINFO TO [ONEBOX\maintenance-worker];
GRANT SELECT ON dbo.SECURITYUSERROLE TO [ONEBOX\maintenance-worker];
GRANT SELECT ON dbo.SECURITYROLE TO [ONEBOX\maintenance-worker];
GRANT SELECT ON dbo.SYSCLIENTSESSIONS TO [ONEBOX\maintenance-worker];
GRANT SELECT ON dbo.BATCHJOB TO [ONEBOX\maintenance-worker];
GO
